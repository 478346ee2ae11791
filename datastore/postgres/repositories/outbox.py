"""The event outbox on Postgres: events are inserted in the transaction of their change; the
relay claims pending rows by turn (SKIP LOCKED) and marks them published.

Only the types this version declares are claimed; others wait for a relay that knows them.

Turns (a virtual clock per user, docs/adr/0026-relay-turns.md): an event's turn (`fair_at`)
is the moment it is written, or `FAIR_SHARE` after its user's previous event's turn if that is
later. The relay takes events by turn, then as written. For people, whose events are seconds
apart, that is the order written. A user who writes many events at once has them spread one
share apart, and another user's event written meanwhile goes before the rest of them instead
of after. Nothing waits for its turn to come: the relay takes whatever is pending, so a burst
alone drains at full speed. Each user's turns only grow, so their events keep their order,
which Pub/Sub's ordering key relies on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import (
    Interval,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.driver_sql import DriverSQL
from datastore.postgres.tables.outbox import OutboxEventRow
from datastore.postgres.tables.users import UserRow
from domain.events import DomainEvent, EventType
from domain.trace_context import current_traceparent

_TABLE: Table = OutboxEventRow.__table__  # type: ignore[attr-defined]
_USERS: Table = UserRow.__table__  # type: ignore[attr-defined]
_PENDING = _TABLE.c.published_at.is_(None)
# A relay claims only the types this version declares. A row of another type (written by a
# newer version, seen by an older relay during a rollout or after a rollback) stays pending
# for a relay that knows it: nothing is published as something else, no batch is stuck on
# it, and the outbox lag shows it while no such relay runs (docs/adr/0015-event-types.md).
_DECLARED = [event_type.value for event_type in EventType]

FAIR_SHARE = timedelta(milliseconds=100)
"""How far apart one user's events are placed in the relay's queue. While a backlog lasts, a
user's events take at most 10 turns a second ahead of events that others write meanwhile. A
person's request writes one event and never comes near it; a sync replaying many changes, an
import or a misbehaving client does, and then waits for its turns instead of making everyone
wait."""

# One statement: the user's turn is taken on their row, which the transaction's write has
# locked already (`next_version`), so turns grow in the order the user's transactions commit.
# The previous turn lives there rather than being looked up among waiting events: that would
# take a second index on unpublished rows (see tables/outbox.py). GREATEST skips the NULL of a
# user with no turn yet; now() is the transaction's start on the database's one clock.
_TURN = (
    update(_USERS)
    .where(_USERS.c.uid == bindparam("user_id"))
    .values(
        outbox_turn=func.greatest(func.now(), _USERS.c.outbox_turn + literal(FAIR_SHARE, Interval))
    )
    .returning(_USERS.c.outbox_turn)
    .cte("turn")
)
_FIELDS = (
    "id",
    "user_id",
    "type",
    "schema_version",
    "subject_id",
    "record_version",
    "payload",
    "occurred_at",
    "origin_installation_id",
    "trace_context",
)
_ADD = (
    insert(_TABLE)
    .from_select(
        [*_FIELDS, "fair_at"],
        select(
            *(bindparam(name, type_=_TABLE.c[name].type) for name in _FIELDS),
            _TURN.c.outbox_turn,
        ),
    )
    .add_cte(_TURN)
    .returning(_TABLE.c.fair_at)
)


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
    .order_by(_TABLE.c.fair_at, _TABLE.c.id)
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
# The first in the queue, whether or not a relay holds it: one row off ix_outbox_events_turn.
_FIRST_WAITING = DriverSQL(
    select(_TABLE.c.occurred_at)
    .where(_PENDING)
    .order_by(_TABLE.c.fair_at, _TABLE.c.id)
    .limit(literal_column("1"))
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
        added = await self._connection.execute(_ADD, values)
        if added.first() is None:  # no row to take a turn on: as the foreign key would refuse
            raise LookupError(f"no user row for an event of type {event.type}")

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

    async def first_waiting_at(self) -> datetime | None:
        row = await _FIRST_WAITING.first(self._connection)
        return None if row is None else row.occurred_at
