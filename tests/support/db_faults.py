"""Faults planted in the database: a trigger that makes one user's inserts misbehave."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql


@contextmanager
def on_insert(database_url: str, table: str, uid: str, action: str) -> Iterator[None]:
    """While inside, inserting a row of `uid` into `table` runs the PL/pgSQL `action` first
    (e.g. `RAISE EXCEPTION '…'`, or terminating its own connection)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN {}; RETURN NEW; END $$"
            ).format(sql.SQL(action))
        )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER test_fault BEFORE INSERT ON {} FOR EACH ROW"
                " WHEN (NEW.user_id = {}) EXECUTE FUNCTION test_fault()"
            ).format(sql.Identifier(table), sql.Literal(uid))
        )
        try:
            yield
        finally:
            conn.execute(
                sql.SQL("DROP TRIGGER IF EXISTS test_fault ON {}").format(sql.Identifier(table))
            )
            conn.execute("DROP FUNCTION IF EXISTS test_fault()")
