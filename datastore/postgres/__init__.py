"""PostgreSQL adapters: SQLModel tables, repositories, the unit of work, Alembic migrations."""
