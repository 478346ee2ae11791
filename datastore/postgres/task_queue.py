"""The embedded default's task queue: delayed jobs in Postgres, drained by in-process workers.

A claim is one transaction: the due rows are locked `FOR UPDATE SKIP LOCKED`, the worker runs
their handlers, records each outcome and commits. Several workers never hold the same task;
a worker that dies mid-batch (its connection drops, the transaction rolls back) leaves its tasks
pending, as if never claimed, and another worker runs them again: at least once.

Names: a task's name stays taken while its row exists. Pending and dead tasks keep their rows;
a done task with a name is kept (as `done`) until `purge` removes it, so a name is refused for
as long as the purge keeps done tasks (Cloud Tasks: about an hour). A done task without a name
has nothing to remember and is deleted at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Table, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.tables.tasks import DEAD, DONE, PENDING, ScheduledTaskRow
from domain.common import Clock, new_id, utc_now
from domain.tasks import ClaimedTask, Task, TaskBatch
from domain.trace_context import current_traceparent

_TABLE: Table = ScheduledTaskRow.__table__  # type: ignore[attr-defined]
MAX_ERROR_CHARS = 2000


class PostgresTaskQueue:
    """`TaskScheduler` and `TaskQueue` on the pool; each call takes its own connection."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    async def schedule(self, task: Task) -> bool:
        stmt = (
            insert(_TABLE)
            .values(
                id=new_id(),
                kind=task.kind,
                name=task.name,
                payload=dict(task.payload),
                status=PENDING,
                run_at=task.run_at,
                attempts=0,
                created_at=self._clock(),
                trace_context=current_traceparent(),
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_TABLE.c.id)
        )
        async with self._engine.begin() as conn:
            inserted = (await conn.execute(stmt)).first()
        return inserted is not None

    @asynccontextmanager
    async def claim_due(self, limit: int, kinds: Collection[str]) -> AsyncIterator[TaskBatch]:
        stmt = (
            select(_TABLE)
            .where(
                _TABLE.c.status == PENDING,
                _TABLE.c.run_at <= self._clock(),
                _TABLE.c.kind.in_(list(kinds)),
            )
            .order_by(_TABLE.c.run_at, _TABLE.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._engine.begin() as conn:
            claimed = [_to_claimed(row) for row in await conn.execute(stmt)]
            yield _PostgresBatch(conn, claimed, self._clock)

    async def purge(
        self, *, older_than: timedelta, dead_older_than: timedelta | None = None
    ) -> int:
        """Deletes done tasks finished more than `older_than` ago (their names become free),
        and dead ones older than `dead_older_than` when given. Returns how many went."""
        now = self._clock()
        finished: ColumnElement[bool] = (_TABLE.c.status == DONE) & (
            _TABLE.c.finished_at < now - older_than
        )
        if dead_older_than is not None:
            dead = (_TABLE.c.status == DEAD) & (_TABLE.c.finished_at < now - dead_older_than)
            finished = or_(finished, dead)
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(_TABLE).where(finished))
        return int(result.rowcount)


class _PostgresBatch:
    def __init__(self, conn: AsyncConnection, tasks: Sequence[ClaimedTask], clock: Clock) -> None:
        self._conn = conn
        self._tasks = tasks
        self._clock = clock
        self._named = {claimed.id for claimed in tasks if claimed.task.name is not None}

    @property
    def tasks(self) -> Sequence[ClaimedTask]:
        return self._tasks

    async def complete(self, task_id: UUID) -> None:
        if task_id in self._named:  # kept to hold its name until purged
            await self._update(task_id, status=DONE, finished_at=self._clock())
        else:
            await self._conn.execute(delete(_TABLE).where(_TABLE.c.id == task_id))

    async def retry(self, task_id: UUID, *, at: datetime, error: str) -> None:
        await self._update(
            task_id, run_at=at, attempts=_TABLE.c.attempts + 1, last_error=error[:MAX_ERROR_CHARS]
        )

    async def bury(self, task_id: UUID, *, error: str) -> None:
        await self._update(
            task_id,
            status=DEAD,
            finished_at=self._clock(),
            attempts=_TABLE.c.attempts + 1,
            last_error=error[:MAX_ERROR_CHARS],
        )

    async def _update(self, task_id: UUID, **values: Any) -> None:
        await self._conn.execute(update(_TABLE).where(_TABLE.c.id == task_id).values(**values))


def _to_claimed(row: Row[Any]) -> ClaimedTask:
    task = Task(kind=row.kind, payload=dict(row.payload), run_at=row.run_at, name=row.name)
    return ClaimedTask(id=row.id, task=task, attempts=row.attempts, trace_context=row.trace_context)
