"""Storage adapters for the domain ports."""
