from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
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
