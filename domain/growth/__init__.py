"""Growth exports: the datasets the growth team analyses, pseudonymised (ADR 0020)."""
