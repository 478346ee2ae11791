"""Purges in Postgres, each one indexed statement (created_at / published_at / id order)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Table, and_, delete
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.tables.consumers import FailedMessageRow, ProcessedEventRow
from datastore.postgres.tables.idempotency import IdempotencyKeyRow
from datastore.postgres.tables.outbox import OutboxEventRow
from datastore.postgres.task_queue import PostgresTaskQueue
from domain.housekeeping import Retention

_OUTBOX: Table = OutboxEventRow.__table__  # type: ignore[attr-defined]
_PROCESSED: Table = ProcessedEventRow.__table__  # type: ignore[attr-defined]
_FAILED: Table = FailedMessageRow.__table__  # type: ignore[attr-defined]
_KEYS: Table = IdempotencyKeyRow.__table__  # type: ignore[attr-defined]


class PostgresHousekeeping:
    def __init__(self, engine: AsyncEngine, tasks: PostgresTaskQueue) -> None:
        self._engine = engine
        self._tasks = tasks

    async def purge(self, now: datetime, retention: Retention) -> Mapping[str, int]:
        statements = {
            "published_events": delete(_OUTBOX).where(
                _OUTBOX.c.published_at < now - retention.published_events
            ),
            "processed_events": delete(_PROCESSED).where(
                _PROCESSED.c.processed_at < now - retention.processed_events
            ),
            "idempotency_keys": delete(_KEYS).where(
                _KEYS.c.created_at < now - retention.idempotency_keys
            ),
            "replayed_messages": delete(_FAILED).where(
                and_(
                    _FAILED.c.replayed_at.is_not(None),
                    _FAILED.c.replayed_at < now - retention.replayed_messages,
                )
            ),
        }
        purged: dict[str, int] = {}
        for kind, statement in statements.items():
            async with self._engine.begin() as conn:  # one short transaction each
                purged[kind] = int((await conn.execute(statement)).rowcount)
        purged["tasks"] = await self._tasks.purge(
            older_than=retention.done_tasks, dead_older_than=retention.dead_tasks
        )
        return purged
