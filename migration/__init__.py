"""The Firestore → Postgres migration: phases, dual writes, backfill, verify, legacy sync, its
`focus` command groups (`cli/`), and its adapters: the legacy Firestore layout (`firestore/`)
and its Postgres side (`postgres/`)."""
