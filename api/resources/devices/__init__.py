"""/v1/devices: app installations."""
