"""AI feature hooks: typed aggregates for prompts, the provider port, prompt and validation."""
