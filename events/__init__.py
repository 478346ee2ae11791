"""Event fan-out: the outbox relay, publishers and the handler registry."""
