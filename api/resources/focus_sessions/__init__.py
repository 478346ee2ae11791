"""/v1/focus-sessions."""
