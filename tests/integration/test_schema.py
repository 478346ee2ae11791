"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from datastore.postgres.engine import sqlalchemy_url
from datastore.postgres.migrate import current, downgrade, head, upgrade
from datastore.postgres.tables import metadata


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """An empty database beside the session's one, for migrating up and down."""
    name = f"focus_scratch_{uuid.uuid4().hex[:10]}"
    admin = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
