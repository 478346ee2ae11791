"""Devices: model, ports, use cases."""
