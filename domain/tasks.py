"""Delayed, deduplicated work: a port for the task scheduler.

A task names a handler (`kind`), carries a small JSON payload and runs no earlier than
`run_at`. A task with a `name` is deduplicated: scheduling a second task of that name while
the first exists (pending, or recently run) does nothing. Handlers run at least once, so they
are idempotent.

How long "recently run" lasts depends on the adapter: Cloud Tasks keeps a name taken for about
an hour after the task ran; the Postgres queue keeps it until the finished task is purged.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

TaskHandler = Callable[[Mapping[str, Any]], Awaitable[None]]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
_KIND = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


@dataclass(frozen=True, slots=True)
class Task:
    kind: str
    """Which handler runs it: `push.deliver`, `maintenance.purge`, …"""
    payload: Mapping[str, Any]
    run_at: datetime
    name: str | None = None
    """Dedup key: letters, digits, `-` and `_`, ≤ 100 characters (Cloud Tasks' rule)."""

    def __post_init__(self) -> None:
        # Refused here rather than by one adapter only: a name Postgres takes but Cloud Tasks
        # refuses would break on the first deploy to production.
        if not _KIND.fullmatch(self.kind):
            raise ValueError(f"task kind {self.kind!r}: lower-case letters, digits, `._-`")
        if self.name is not None and not _NAME.fullmatch(self.name):
            raise ValueError(f"task name {self.name!r}: letters, digits, `-`, `_`, ≤ 100")
        if self.run_at.tzinfo is None:
            raise ValueError("task run_at must be an aware datetime (UTC)")


class UnknownTaskKind(LookupError):
    """No handler is registered for the task's kind."""


class TaskScheduler(Protocol):
    async def schedule(self, task: Task) -> bool:
        """Schedules the task; False when a task of the same name already exists."""
        ...


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    """A due task a worker holds: no other worker gets it until the batch ends."""

    id: UUID
    task: Task
    attempts: int
    """Runs that failed before this one."""
    trace_context: str | None = None
    """The W3C `traceparent` of what scheduled it: its run continues that trace."""


class TaskBatch(Protocol):
    """The tasks of one claim and what became of each. Ending the batch normally records the
    outcomes; ending it with an error (or a dead worker) returns every task to the queue."""

    @property
    def tasks(self) -> Sequence[ClaimedTask]: ...

    async def complete(self, task_id: UUID) -> None:
        """The task ran."""
        ...

    async def retry(self, task_id: UUID, *, at: datetime, error: str) -> None:
        """The task failed and runs again at `at`."""
        ...

    async def bury(self, task_id: UUID, *, error: str) -> None:
        """The task failed for the last time: it stays, dead, for someone to look at."""
        ...


class TaskQueue(Protocol):
    """What a worker needs from a queue it drains itself (the Postgres queue; Cloud Tasks
    drains its own queue and calls `/internal/tasks/{kind}`)."""

    def claim_due(
        self, limit: int, kinds: Collection[str]
    ) -> AbstractAsyncContextManager[TaskBatch]:
        """Claims up to `limit` due tasks of these kinds, oldest `run_at` first, skipping
        those another worker holds."""
        ...
