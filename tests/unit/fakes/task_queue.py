"""An in-memory task queue with the Postgres queue's rules: a claim holds its tasks until the
batch ends; a batch that ends with an error records nothing (as a rolled-back transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from domain.common import Clock
from domain.tasks import ClaimedTask, Task, TaskBatch


@dataclass(frozen=True)
class StoredTask:
    id: UUID
    task: Task
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None


class FakeTaskQueue:
    def __init__(self, clock: Clock, *, failing_claims: int = 0) -> None:
        self.tasks: dict[UUID, StoredTask] = {}
        self._clock = clock
        self._held: set[UUID] = set()
        self.failing_claims = failing_claims

    async def schedule(self, task: Task) -> bool:
        if task.name is not None and any(s.task.name == task.name for s in self.tasks.values()):
            return False
        stored = StoredTask(uuid4(), task)
        self.tasks[stored.id] = stored
        return True

    @asynccontextmanager
    async def claim_due(self, limit: int, kinds: Collection[str]) -> AsyncIterator[TaskBatch]:
        if self.failing_claims:
            self.failing_claims -= 1
            raise ConnectionError("the database is unreachable")
        now = self._clock()
        due = sorted(
            (
                s
                for s in self.tasks.values()
                if s.status == "pending"
                and s.task.run_at <= now
                and s.task.kind in kinds
                and s.id not in self._held
            ),
            key=lambda s: s.task.run_at,
        )[:limit]
        batch = _FakeBatch([ClaimedTask(s.id, s.task, s.attempts) for s in due], self._clock)
        self._held.update(s.id for s in due)
        try:
            yield batch
            for task_id, outcome in batch.outcomes.items():  # "commit"
                self.tasks[task_id] = outcome(self.tasks[task_id])
        finally:
            self._held.difference_update(s.id for s in due)

    def by_kind(self, kind: str) -> list[StoredTask]:
        return [s for s in self.tasks.values() if s.task.kind == kind]


class _FakeBatch:
    def __init__(self, tasks: Sequence[ClaimedTask], clock: Clock) -> None:
        self._tasks = tasks
        self._clock = clock
        self.outcomes: dict[UUID, Callable[[StoredTask], StoredTask]] = {}

    @property
    def tasks(self) -> Sequence[ClaimedTask]:
        return self._tasks

    async def complete(self, task_id: UUID) -> None:
        self.outcomes[task_id] = lambda s: replace(s, status="done")

    async def retry(self, task_id: UUID, *, at: datetime, error: str) -> None:
        self.outcomes[task_id] = lambda s: replace(
            s, task=replace(s.task, run_at=at), attempts=s.attempts + 1, last_error=error
        )

    async def bury(self, task_id: UUID, *, error: str) -> None:
        self.outcomes[task_id] = lambda s: replace(
            s, status="dead", attempts=s.attempts + 1, last_error=error
        )
