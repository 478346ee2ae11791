from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.tables.outbox import OutboxEventRow
from domain.events import DomainEvent

_TABLE: Table = OutboxEventRow.__table__  # type: ignore[attr-defined]


class PostgresEventOutbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, event: DomainEvent) -> None:
        values: dict[str, Any] = {
            "id": event.id,
            "user_id": event.user_id,
            "type": event.type,
            "schema_version": event.schema_version,
            "subject_id": event.subject_id,
            "record_version": event.record_version,
            "payload": event.payload,
            "occurred_at": event.occurred_at,
        }
        await self._connection.execute(insert(_TABLE).values(**values))

    async def claim_pending(self, limit: int) -> list[DomainEvent]:
        stmt = (
            select(_TABLE)
            .where(_TABLE.c.published_at.is_(None))
            .order_by(_TABLE.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_to_event(row) for row in await self._connection.execute(stmt)]

    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None:
        if event_ids:
            stmt = update(_TABLE).where(_TABLE.c.id.in_(event_ids)).values(published_at=at)
            await self._connection.execute(stmt)


def _to_event(row: Row[Any]) -> DomainEvent:
    return DomainEvent(
        type=row.type,
        user_id=row.user_id,
        subject_id=row.subject_id,
        record_version=row.record_version,
        occurred_at=row.occurred_at,
        payload=dict(row.payload),
        schema_version=row.schema_version,
        id=row.id,
    )
