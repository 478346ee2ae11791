"""Silent push: the message, the sender port, and what the policy decides from events."""
