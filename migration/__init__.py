"""The Firestore → Postgres migration: the legacy layout, phases, dual writes, backfill, verify."""
