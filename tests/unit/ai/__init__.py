"""Tests of the AI feature hooks: features, prompt, validation, providers and the eval set."""
