"""The Firestore documents committed writes still owe (`pending_mirrors`, ADR 0012).

`PostgresPendingMirrors` works on the unit of work's connection: it records a write's mirror
(committed or rolled back with the write) and finds a user's pending mirrors before a read
(read-your-writes). `PostgresMirrorQueue` works on the pool: it leases due mirrors to the
repair loop and deletes them once Firestore has them. A lease rather than a lock held across
the Firestore call: a repair that dies mid-batch leaves its rows to be leased again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.tables.mirrors import PendingMirrorRow
from domain.common import Clock, utc_now
from domain.migration import Entity, MirrorKind, PendingMirror

_TABLE: Table = PendingMirrorRow.__table__  # type: ignore[attr-defined]
MAX_ERROR_CHARS = 2000
KIND = "kind"
"""The mirror's kind rides in the document column, beside the fields."""
FIELDS = "fields"


class PostgresPendingMirrors:
    """Records mirrors in the transaction of the write they belong to."""

    def __init__(self, connection: AsyncConnection, *, clock: Clock = utc_now) -> None:
        self._connection = connection
        self._clock = clock

    async def record(self, mirror: PendingMirror, *, due_in: timedelta) -> PendingMirror:
        """Stores `mirror`, returned with its id; the repair loop takes it after `due_in`
        unless it is done before (the write's own process applies it after the commit)."""
        now = self._clock()
        stmt = (
            insert(_TABLE)
            .values(
                user_id=mirror.user_id,
                entity=mirror.entity.value,
                record_key=mirror.record_key,
                version=mirror.version,
                document={KIND: mirror.kind.value, FIELDS: dict(mirror.fields)},
                created_at=now,
                due_at=now + due_in,
            )
            .returning(_TABLE.c.id)
        )
        return replace(mirror, id=int((await self._connection.execute(stmt)).scalar_one()))

    async def of_user(self, user_id: str, entity: Entity) -> list[PendingMirror]:
        """The user's pending mirrors of one entity in version order (normally none), read on
        the unit of work's own connection: no second connection for a read's check."""
        stmt = (
            select(_TABLE)
            .where(_TABLE.c.user_id == user_id, _TABLE.c.entity == entity.value)
            .order_by(_TABLE.c.version, _TABLE.c.id)
        )
        return [_mirror(row) for row in await self._connection.execute(stmt)]

    async def forget(self, entity: Entity, user_id: str, record_key: str) -> int:
        """Drops the record's pending mirrors (an old app removed its document, and nothing
        older may bring it back); how many there were."""
        stmt = delete(_TABLE).where(
            _TABLE.c.user_id == user_id,
            _TABLE.c.entity == entity.value,
            _TABLE.c.record_key == record_key,
        )
        return (await self._connection.execute(stmt)).rowcount


class PostgresMirrorQueue:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    async def lease_due(self, limit: int, lease: timedelta) -> list[PendingMirror]:
        """Up to `limit` due mirrors, hidden from other repairs for `lease`: the longest due
        first, returned in each user's version order (the order they are applied in)."""
        now = self._clock()
        due = (
            select(_TABLE.c.id)
            .where(_TABLE.c.due_at <= now)
            .order_by(_TABLE.c.due_at, _TABLE.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(_TABLE)
            .where(_TABLE.c.id.in_(due))
            .values(due_at=now + lease)
            .returning(*_TABLE.c)
        )
        async with self._engine.begin() as conn:
            rows = list(await conn.execute(stmt))
        return sorted((_mirror(row) for row in rows), key=lambda m: (m.user_id, m.version))

    async def done(self, ids: Sequence[int]) -> None:
        if ids:
            async with self._engine.begin() as conn:
                await conn.execute(delete(_TABLE).where(_TABLE.c.id.in_(ids)))

    async def retry_later(self, mirror_id: int, error: str, due_at: datetime) -> None:
        stmt = (
            update(_TABLE)
            .where(_TABLE.c.id == mirror_id)
            .values(
                attempts=_TABLE.c.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS],
                due_at=due_at,
            )
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many mirrors are pending, and when the oldest was recorded."""
        stmt = select(func.count(), func.min(_TABLE.c.created_at))
        async with self._engine.connect() as conn:
            count, oldest = (await conn.execute(stmt)).one()
        return int(count), oldest


def _mirror(row: Row[Any]) -> PendingMirror:
    document = row.document
    return PendingMirror(
        entity=Entity(row.entity),
        user_id=row.user_id,
        record_key=row.record_key,
        version=row.version,
        kind=MirrorKind(document[KIND]),
        fields=document[FIELDS],
        id=row.id,
        attempts=row.attempts,
    )
