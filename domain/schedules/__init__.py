"""schedules: model, ports, use cases."""
