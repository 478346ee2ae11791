"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from datastore.postgres.engine import sqlalchemy_url
from datastore.postgres.schema import current, downgrade, head, upgrade
from datastore.postgres.tables import metadata


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == [], "models and migrations disagree: write a migration"


def test_migrations_go_down_to_nothing_and_up_again(scratch_database: str) -> None:
    upgrade(scratch_database)
    assert current(scratch_database) == head()

    downgrade(scratch_database, "base")
    assert current(scratch_database) is None

    upgrade(scratch_database)
    assert current(scratch_database) == head()
