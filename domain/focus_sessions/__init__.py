"""focus sessions: model, ports, use cases."""
