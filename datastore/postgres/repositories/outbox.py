"""The event outbox on Postgres: events are inserted in the transaction of their change; the
relay claims pending rows oldest first (SKIP LOCKED) and marks them published.

Only the types this version declares are claimed; others wait for a relay that knows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Table, Text, any_, bindparam, cast, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.driver_sql import DriverSQL
from datastore.postgres.tables.outbox import OutboxEventRow
from domain.events import DomainEvent, EventType
from domain.trace_context import current_traceparent

_TABLE: Table = OutboxEventRow.__table__  # type: ignore[attr-defined]
_PENDING = _TABLE.c.published_at.is_(None)
# A relay claims only the types this version declares. A row of another type (written by a
# newer version, seen by an older relay during a rollout or after a rollback) stays pending
# for a relay that knows it: nothing is published as something else, no batch is stuck on
# it, and the outbox lag shows it while no such relay runs (docs/adr/0015-event-types.md).
_DECLARED = [event_type.value for event_type in EventType]
# The relay's statements are compiled once and sent as driver SQL: built per batch as Core
# statements, with SQLAlchemy's row processing and an `IN` of 100 parameters, claim and mark
# took about half of a drain's CPU (bench/outbox_relay.py). The payload comes as text for
# orjson: psycopg's json.loads cost twice as much as loading the rest of the row.
_CLAIM = DriverSQL(
    select(
        _TABLE.c.id,
        _TABLE.c.type,
        _TABLE.c.user_id,
        _TABLE.c.subject_id,
        _TABLE.c.record_version,
        _TABLE.c.occurred_at,
        cast(_TABLE.c.payload, Text),
        _TABLE.c.schema_version,
        _TABLE.c.origin_installation_id,
        _TABLE.c.trace_context,
    )
    .where(_PENDING, _TABLE.c.type == any_(bindparam("types")))
    .order_by(_TABLE.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# One statement: the ids as one uuid[] in binary (`%(ids)b`; a text array cost more CPU than
# the rest of the mark), and asynchronous commit for this transaction. A mark's commit need
# not wait for the disk: the worst a database crash can do is lose the marks of its last
# moments, whose events are then published again, which at-least-once allows. Waiting for
# the flush was about half of a batch's time.
_MARK = (
    "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))"
    " UPDATE outbox_events SET published_at = %(at)s FROM async_commit WHERE id = ANY(%(ids)b)"
)
# Ids are UUIDv7, in the order events were written: the first pending id on the partial index
# ix_outbox_events_pending is the oldest event, found without sorting or reading the table.
_OLDEST_PENDING = DriverSQL(
    select(_TABLE.c.occurred_at).where(_PENDING).order_by(_TABLE.c.id).limit(literal_column("1"))
)


class PostgresEventOutbox:
    def __init__(self, connection: AsyncConnection, origin: str | None = None) -> None:
        self._connection = connection
        self._origin = origin
        """The installation whose request this transaction serves: stamped on its events."""

    async def add(self, event: DomainEvent) -> None:
        values: dict[str, Any] = {
            "id": event.id,
            "user_id": event.user_id,
            "type": event.type.value,
            "schema_version": event.schema_version,
            "subject_id": event.subject_id,
            "record_version": event.record_version,
            "payload": event.payload,
            "occurred_at": event.occurred_at,
            "origin_installation_id": event.origin_installation_id or self._origin,
            "trace_context": event.trace_context or current_traceparent(),
        }
        await self._connection.execute(insert(_TABLE).values(**values))

    async def claim_pending(self, limit: int) -> list[DomainEvent]:
        rows = await _CLAIM.all(self._connection, limit=limit, types=_DECLARED)
        return [
            DomainEvent(
                type=EventType.parse(type_),
                user_id=user_id,
                subject_id=subject_id,
                record_version=record_version,
                occurred_at=occurred_at,
                payload=orjson.loads(payload),
                schema_version=schema_version,
                origin_installation_id=origin,
                id=event_id,
                trace_context=trace_context,
            )
            for (
                event_id,
                type_,
                user_id,
                subject_id,
                record_version,
                occurred_at,
                payload,
                schema_version,
                origin,
                trace_context,
            ) in rows
        ]

    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None:
        if event_ids:
            await self._connection.exec_driver_sql(_MARK, {"ids": list(event_ids), "at": at})

    async def oldest_pending_at(self) -> datetime | None:
        row = await _OLDEST_PENDING.first(self._connection)
        return None if row is None else row.occurred_at
