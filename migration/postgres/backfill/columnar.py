"""A batch's rows as one array per column: the existing-rows lookup and the insert.

A batch travels as one array per column (`unnest`): one short statement, prepared once per
table, instead of a placeholder per value (whose parsing cost more than the insert itself).
The statements go to psycopg itself, on the transaction's connection, with binary parameters:
arrays of a batch's values then need no quoting or parsing (the text format's cost).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.tables.columns import SET_BY_TRIGGERS


class Statement(NamedTuple):
    sql: str
    params: dict[str, Any]
    planned_each_time: bool = False
    """Not prepared: planned for the table as it is now, not as it was when first sent."""


@dataclass(frozen=True, slots=True)
class Columnar:
    columns: tuple[str, ...]
    arrays: tuple[str, ...]
    """Columns sent as Postgres array literals (text), cast back per row."""
    documents: tuple[str, ...]
    """JSONB columns."""
    existing: str
    """Each key's row version: the key columns, then `version`. Sent unprepared: a prepared
    statement keeps its first generic plan, and one made while the table was (nearly) empty
    may scan a whole index per key once the backfill has filled it."""
    insert_or_keep: str

    def insert(self, rows: Sequence[dict[str, Any]]) -> Statement:
        return Statement(self.insert_or_keep, {n: self._column(n, rows) for n in self.columns})

    def _column(self, name: str, rows: Sequence[dict[str, Any]]) -> list[Any]:
        values = [row[name] for row in rows]
        if name in self.arrays:
            return [
                None if v is None else "{" + ",".join(map(_array_item, v)) + "}" for v in values
            ]
        if name in self.documents:
            return [None if v is None else Jsonb(v) for v in values]
        return values


_COLUMNAR: dict[str, Columnar] = {}


def columnar(table: Table) -> Columnar:
    if table.name not in _COLUMNAR:
        _COLUMNAR[table.name] = _compile(table)
    return _COLUMNAR[table.name]


def _compile(table: Table) -> Columnar:
    dialect = psycopg_dialect()  # type: ignore[no-untyped-call]
    types = {c.name: c.type.compile(dialect=dialect) for c in table.columns}
    arrays = tuple(name for name, sql_type in types.items() if sql_type.endswith("[]"))

    def unnest(names: Iterable[str]) -> str:
        typed = (f"CAST(%({n})b AS {'TEXT' if n in arrays else types[n]}[])" for n in names)
        return f"unnest({', '.join(typed)}) AS b({', '.join(names)})"

    key = [c.name for c in table.primary_key.columns]
    # One primary-key probe per key (LATERAL … LIMIT 1 keeps the planner from a hash join over
    # the whole table, whose cost grows with the table rather than with the batch).
    # Names from our own table definitions, never from input.
    matches = " AND ".join(f"t.{k} = b.{k}" for k in key)
    existing = (
        f"SELECT {', '.join(f'b.{k}' for k in key)}, t.version FROM {unnest(key)}"  # noqa: S608
        f" CROSS JOIN LATERAL (SELECT t.version FROM {table.name} AS t"
        f" WHERE {matches} LIMIT 1) AS t"
    )
    # Every column: the rows spell each one out (a server default is never wanted here), but
    # those the database's triggers set.
    columns = tuple(c.name for c in table.columns if c.name not in SET_BY_TRIGGERS)
    selected = (f"CAST({n} AS {types[n]})" if n in arrays else n for n in columns)
    insert = (
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608
        f" SELECT {', '.join(selected)} FROM {unnest(columns)}"
    )
    documents = tuple(name for name, sql_type in types.items() if sql_type == "JSONB")
    return Columnar(columns, arrays, documents, existing, f"{insert} ON CONFLICT DO NOTHING")


def _array_item(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


async def driver_of(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


async def driver_rows(conn: AsyncConnection, sql: str, params: dict[str, Any]) -> list[Any]:
    """One statement's rows (none for a statement that returns none)."""
    driver = await driver_of(conn)
    async with driver.cursor(binary=True) as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchall() if cursor.description else []


class Answer(NamedTuple):
    rows: list[Any]
    changed: int
    """Rows the statement returned or changed."""


async def pipelined(conn: AsyncConnection, statements: Sequence[Statement]) -> list[Answer]:
    """Each statement's answer, the statements sent together and answered in one round trip
    (psycopg's pipeline mode): they run in order, as if sent one after the other."""
    driver = await driver_of(conn)
    cursors = [driver.cursor(binary=True) for _ in statements]
    try:
        async with driver.pipeline():
            for cursor, statement in zip(cursors, statements, strict=True):
                prepare = False if statement.planned_each_time else None
                await cursor.execute(statement.sql, statement.params, prepare=prepare)
        return [Answer(await c.fetchall() if c.description else [], c.rowcount) for c in cursors]
    finally:
        for cursor in cursors:
            await cursor.close()
