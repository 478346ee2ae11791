"""/v1/sync."""
