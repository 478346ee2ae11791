"""The Firestore → Postgres migration: phases, dual writes, backfill, verify, legacy sync, and
its adapters: the legacy Firestore layout (`firestore/`) and its Postgres side (`postgres/`)."""
