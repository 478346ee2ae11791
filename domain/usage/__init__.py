"""usage: model, ports, use cases."""
