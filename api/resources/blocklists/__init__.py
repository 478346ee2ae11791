"""/v1/blocklists."""
