"""The Firestore → Postgres migration, on a real PostgreSQL."""
