"""What the legacy sync reads and writes in Postgres beyond the repositories (ADR 0012).

The sync decides each legacy change against state the repositories do not show: whether the
user was erased, how far each Firestore document has been applied (`legacy_sync_positions`),
a record's version even when the record is a tombstone (a legacy edit must not bring back
what an API delete removed), and the Firestore mirrors of what it wrote (the version it
assigned goes back into the document). `PostgresLegacySyncUnitOfWork` puts these queries on
the unit of work's own connection, so the position moves in the same transaction as the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from datetime import timedelta
from typing import Self
from uuid import UUID

from sqlalchemy import Table, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.tables import table_of
from datastore.postgres.tables.mirrors import LegacySyncPositionRow
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.migration import Entity, PendingMirror, RecordState
from migration.postgres.pending_mirrors import PostgresPendingMirrors

_POSITIONS: Table = LegacySyncPositionRow.__table__  # type: ignore[attr-defined]
_BLOCKLISTS: Table = table_of(Entity.BLOCKLISTS)
_ERASED = text("SELECT 1 FROM erased_users WHERE uid = :uid")
_TABLES: Mapping[Entity, Table] = {entity: table_of(entity) for entity in Entity}


class PostgresLegacySyncLedger:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._mirrors = PostgresPendingMirrors(connection)

    async def owe(self, mirror: PendingMirror, *, due_in: timedelta) -> PendingMirror:
        """Firestore owes `mirror` once this transaction commits (the repair loop takes it
        after `due_in` unless the sync applies it first)."""
        return await self._mirrors.record(mirror, due_in=due_in)

    async def forget_owed(self, entity: Entity, uid: str, record_key: str) -> None:
        await self._mirrors.forget(entity, uid, record_key)

    async def is_erased(self, uid: str) -> bool:
        return (await self._connection.execute(_ERASED, {"uid": uid})).first() is not None

    async def position(self, uid: str, path: str) -> str | None:
        """The Firestore update_time of the document's last applied change (under the
        caller's user lock, so it cannot move before `advance`)."""
        stmt = select(_POSITIONS.c.update_time).where(
            _POSITIONS.c.user_id == uid, _POSITIONS.c.path == path
        )
        return (await self._connection.execute(stmt)).scalar_one_or_none()

    async def advance(self, uid: str, path: str, update_time: str) -> None:
        proposed = insert(_POSITIONS).values(user_id=uid, path=path, update_time=update_time)
        stmt = proposed.on_conflict_do_update(
            index_elements=["user_id", "path"],
            set_={"update_time": proposed.excluded.update_time},
        )
        await self._connection.execute(stmt)

    async def state(self, entity: Entity, key: Mapping[str, object]) -> RecordState | None:
        """The record's version and whether it is a tombstone; None when there is no row."""
        table = _TABLES[entity]
        deleted = table.c.deleted_at.isnot(None) if "deleted_at" in table.c else literal(False)
        stmt = select(table.c.version, deleted)
        for column, value in key.items():
            stmt = stmt.where(table.c[column] == value)
        row = (await self._connection.execute(stmt)).first()
        return None if row is None else RecordState(version=int(row[0]), deleted=bool(row[1]))

    async def created_no_later_than(self, uid: str, at: dt.datetime) -> None:
        """The user's `created_at` becomes `at` if that is earlier (the sync makes the row
        before it reads the profile, at its own time)."""
        users = _TABLES[Entity.USERS]
        stmt = (
            update(users).where(users.c.uid == uid, users.c.created_at > at).values(created_at=at)
        )
        await self._connection.execute(stmt)

    async def blocklist_ids(self, uid: str) -> frozenset[UUID]:
        stmt = select(_BLOCKLISTS.c.id).where(_BLOCKLISTS.c.user_id == uid)
        return frozenset(row[0] for row in await self._connection.execute(stmt))


class PostgresLegacySyncUnitOfWork(PostgresUnitOfWork):
    """The unit of work with the ledger on the same connection (the origin is always none:
    a legacy change comes from no installation the backend knows)."""

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.legacy = PostgresLegacySyncLedger(self.connection)
        return self
