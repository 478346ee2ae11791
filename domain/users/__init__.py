"""Users: model, ports, use cases."""
