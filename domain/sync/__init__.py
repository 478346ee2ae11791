"""sync: model, ports, use cases."""
