"""Hot reads as driver SQL: a Core statement compiled once, then sent as it is.

SQLAlchemy's per-call work (cache key, parameter and result processing) costs about as much
CPU as psycopg itself on a one-row read (bench/api_read.py). For the few reads on the hot path
the statement is compiled at import and executed with `exec_driver_sql`; psycopg's own
adapters already return UUIDs, aware datetimes and dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select


class DriverSQL:
    def __init__(self, statement: Select[Any]) -> None:
        self.sql = str(statement.compile(dialect=psycopg_dialect()))  # type: ignore[no-untyped-call]

    async def first(self, connection: AsyncConnection, **params: Any) -> Row[Any] | None:
        return (await connection.exec_driver_sql(self.sql, params)).first()

    async def all(
        self, connection: AsyncConnection, **params: Any
    ) -> Sequence[Row[*tuple[Any, ...]]]:
        return (await connection.exec_driver_sql(self.sql, params)).all()
