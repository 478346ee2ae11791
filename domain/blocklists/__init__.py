"""blocklists: model, ports, use cases."""
