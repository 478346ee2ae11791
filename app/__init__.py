"""The composition root: settings, wiring of adapters, the `focus` CLI."""
