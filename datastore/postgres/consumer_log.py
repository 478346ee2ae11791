"""What consumers remember, in Postgres: handled events and messages given up on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables.consumers import FailedMessageRow, ProcessedEventRow
from domain.consumers import FailedMessage
from domain.events import DomainEvent

_PROCESSED: Table = ProcessedEventRow.__table__  # type: ignore[attr-defined]
_FAILED: Table = FailedMessageRow.__table__  # type: ignore[attr-defined]
_USER_EXISTS = text("SELECT 1 FROM users WHERE uid = :uid")


class PostgresProcessedEvents:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def processing(
        self, subscription: str, event: DomainEvent, now: datetime
    ) -> AsyncIterator[bool]:
        # The row is inserted before the handler runs and committed after it: a concurrent
        # duplicate blocks on the primary key until then, and sees the row (or, after a
        # rollback, takes the event itself). An erased user's events are simply skipped.
        async with self._engine.connect() as conn:
            claim = (
                pg_insert(_PROCESSED)
                .values(
                    subscription=subscription,
                    event_id=event.id,
                    user_id=event.user_id,
                    processed_at=now,
                )
                .on_conflict_do_nothing()
                .returning(_PROCESSED.c.event_id)
            )
            if (await conn.execute(_USER_EXISTS, {"uid": event.user_id})).first() is None:
                yield False
                return
            first = (await conn.execute(claim)).first() is not None
            yield first
            await conn.commit()


class PostgresFailedMessages:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, failed: FailedMessage) -> None:
        values: dict[str, Any] = {
            "id": failed.id,
            "subscription": failed.subscription,
            "message_id": failed.message_id,
            "event_id": failed.event_id,
            "data": failed.data,
            "attributes": dict(failed.attributes),
            "error": failed.error[:2000],
            "attempts": failed.attempts,
            "failed_at": failed.failed_at,
        }
        async with self._engine.begin() as conn:
            await conn.execute(insert(_FAILED).values(**values))

    async def pending(self, subscription: str | None, limit: int) -> Sequence[FailedMessage]:
        stmt = select(_FAILED).where(_FAILED.c.replayed_at.is_(None))
        if subscription is not None:
            stmt = stmt.where(_FAILED.c.subscription == subscription)
        stmt = stmt.order_by(_FAILED.c.id).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            FailedMessage(
                subscription=row.subscription,
                data=bytes(row.data),
                attributes=dict(row.attributes),
                error=row.error,
                attempts=row.attempts,
                failed_at=row.failed_at,
                message_id=row.message_id,
                event_id=row.event_id,
                id=row.id,
            )
            for row in rows
        ]

    async def mark_replayed(self, failed_id: UUID, at: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(_FAILED).where(_FAILED.c.id == failed_id).values(replayed_at=at)
            )
