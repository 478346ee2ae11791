"""/v1/privacy: the subject's own data requests (export; erasure starts at DELETE /v1/me)."""
