"""The migration's Postgres side: backfill, pending mirrors, legacy sync, verify reads, phases."""
