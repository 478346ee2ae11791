"""/v1/stats."""
