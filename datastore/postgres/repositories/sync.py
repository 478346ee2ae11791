"""The change feed: each table's changes through its (user_id, version) index, merged.

One query per table (`version > :after ORDER BY version LIMIT :n`), merged in Python, rather
than one UNION ALL: the tables share no columns, so a UNION would have to flatten rows to
JSON and lose each area's own row→entity mapping (`to_device`, ...), which is what keeps a
change's `data` identical to the area's GET. What the UNION would give for free, one
snapshot for every table, comes from running the reads in one REPEATABLE READ transaction:
under READ COMMITTED a write committed between two of the queries could land in a table
already read, with a version below a later one returned, and the client's cursor would pass
it forever. Each query after the first is also capped at the highest version the page can
still use, so a page reads little more than it sends.

Each table's query is compiled once and sent as driver SQL (datastore/postgres/driver_sql.py):
built per call, the seven statements' SQLAlchemy work was a fifth of a sync page's CPU
(bench/read_instructions.py --sync). Until a page is full, its ceiling is the largest version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Integer, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.driver_sql import DriverSQL
from datastore.postgres.repositories.blocklists import to_blocklist
from datastore.postgres.repositories.devices import to_device
from datastore.postgres.repositories.focus_sessions import to_focus_session
from datastore.postgres.repositories.insights import to_insight
from datastore.postgres.repositories.schedules import to_schedule
from datastore.postgres.repositories.usage import to_usage_report
from datastore.postgres.repositories.users import to_user
from datastore.postgres.tables.ai import AiInsightRow
from datastore.postgres.tables.blocklists import BlocklistRow
from datastore.postgres.tables.devices import DeviceRow
from datastore.postgres.tables.focus_sessions import FocusSessionRow
from datastore.postgres.tables.schedules import ScheduleRow
from datastore.postgres.tables.usage import UsageReportRow
from datastore.postgres.tables.users import UserRow
from domain.sync.model import OPT_IN, Change, Entity, EntityType, order, usage_report_id

_ONE_SNAPSHOT = ("REPEATABLE READ", "SERIALIZABLE")
_USERS: Table = UserRow.__table__  # type: ignore[attr-defined]

Source = Callable[[AsyncConnection, str, int, int, int], Awaitable[list[Change]]]
"""(connection, user_id, after, ceiling, limit) → one table's changes, by version."""

_NO_CEILING = 2**63 - 1
"""Versions are bigints: no version is above this one."""


def _changes_of(table: Table) -> DriverSQL:
    version = table.c.version
    return DriverSQL(
        select(table)
        .where(
            table.c.user_id == bindparam("user_id"),
            version > bindparam("after"),
            version <= bindparam("ceiling"),
        )
        .order_by(version)
        .limit(bindparam("limit", type_=Integer))
    )


def _table(
    row: Any, kind: EntityType, key: Callable[[Any], str], to_entity: Callable[[Any], Entity]
) -> Source:
    """A table with user_id, version and (unless it is never deleted) deleted_at."""
    changes = _changes_of(row.__table__)

    async def read(
        connection: AsyncConnection, user_id: str, after: int, ceiling: int, limit: int
    ) -> list[Change]:
        rows = await changes.all(
            connection, user_id=user_id, after=after, ceiling=ceiling, limit=limit
        )
        return [
            Change(
                kind,
                key(row),
                row.version,
                None if getattr(row, "deleted_at", None) else to_entity(row),
            )
            for row in rows
        ]

    return read


_PROFILE = DriverSQL(
    select(_USERS).where(
        _USERS.c.uid == bindparam("user_id"),
        _USERS.c.version > bindparam("after"),
        _USERS.c.version <= bindparam("ceiling"),
    )
)


async def _profile(
    connection: AsyncConnection, user_id: str, after: int, ceiling: int, limit: int
) -> list[Change]:
    row = await _PROFILE.first(connection, user_id=user_id, after=after, ceiling=ceiling)
    return [Change(EntityType.PROFILE, row.uid, row.version, to_user(row))] if row else []


_SOURCES: tuple[tuple[EntityType, Source], ...] = (
    (EntityType.PROFILE, _profile),
    (
        EntityType.DEVICE,
        _table(DeviceRow, EntityType.DEVICE, lambda r: r.installation_id, to_device),
    ),
    (
        EntityType.BLOCKLIST,
        _table(BlocklistRow, EntityType.BLOCKLIST, lambda r: str(r.id), to_blocklist),
    ),
    (
        EntityType.SCHEDULE,
        _table(ScheduleRow, EntityType.SCHEDULE, lambda r: str(r.id), to_schedule),
    ),
    (
        EntityType.FOCUS_SESSION,
        _table(FocusSessionRow, EntityType.FOCUS_SESSION, lambda r: str(r.id), to_focus_session),
    ),
    (
        EntityType.USAGE_REPORT,
        _table(
            UsageReportRow,
            EntityType.USAGE_REPORT,
            lambda r: usage_report_id(r.date, r.installation_id),
            to_usage_report,
        ),
    ),
    (
        EntityType.INSIGHT,
        _table(AiInsightRow, EntityType.INSIGHT, lambda r: str(r.id), to_insight),
    ),
)


class PostgresChangeFeed:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def since(
        self,
        user_id: str,
        after_version: int,
        limit: int,
        *,
        include: frozenset[EntityType] = frozenset(),
    ) -> list[Change]:
        await self._one_snapshot()
        found: list[Change] = []
        for kind, source in _SOURCES:
            if kind in OPT_IN and kind not in include:
                continue
            # Once `limit` changes are in hand, nothing above the last of them can make the page.
            ceiling = found[-1].version if len(found) >= limit else _NO_CEILING
            more = await source(self._connection, user_id, after_version, ceiling, limit)
            found = sorted([*found, *more], key=order)[:limit]
        return found

    async def _one_snapshot(self) -> None:
        # The level holds for the connection's transactions until it is back in the pool
        # (where SQLAlchemy resets it), i.e. for the rest of this unit of work.
        if not self._connection.in_transaction():
            await self._connection.execution_options(isolation_level="REPEATABLE READ")
            return
        if await self._connection.get_isolation_level() not in _ONE_SNAPSHOT:
            raise RuntimeError("read the change feed first in its unit of work (one snapshot)")
