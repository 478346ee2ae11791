"""/v1/me: the caller's profile."""
