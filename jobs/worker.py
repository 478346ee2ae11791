"""The in-process worker of the embedded default: runs due tasks of the Postgres queue.

Each round claims a batch (only kinds this process has handlers for: during a rolling deploy an
old process leaves a new kind to the new ones), runs the handlers one after another and records
each outcome when the batch ends. A failed task runs again after an exponential backoff with
jitter; after `max_attempts` failed runs it is dead: kept, logged as `tasks.dead`.
Several workers may run at once, in one process or many.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from domain.common import Clock, utc_now
from domain.tasks import ClaimedTask, TaskBatch, TaskQueue
from domain.trace_context import context_of
from jobs.registry import TaskHandlers

log = logging.getLogger("events.tasks")
tracer = trace.get_tracer(__name__)


class TaskWorker:
    def __init__(
        self,
        queue: TaskQueue,
        handlers: TaskHandlers,
        *,
        clock: Clock = utc_now,
        batch_size: int = 10,
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(seconds=10),
        max_delay: timedelta = timedelta(hours=1),
        handler_timeout: timedelta = timedelta(seconds=60),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """`jitter` returns a number in [0, 1]: the delay is between half and all of the
        exponential step, so that tasks which failed together do not retry together."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._queue = queue
        self._handlers = handlers
        self._clock = clock
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._handler_timeout = handler_timeout.total_seconds()
        self._jitter = jitter

    async def run_once(self) -> int:
        """Runs one batch of due tasks; returns how many ran (failed ones too; 0: none due)."""
        kinds = self._handlers.kinds
        if not kinds:
            return 0
        dead: list[tuple[ClaimedTask, Exception]] = []
        async with self._queue.claim_due(self._batch_size, kinds) as batch:
            for claimed in batch.tasks:
                error = await self._run(claimed)
                if error is None:
                    await batch.complete(claimed.id)
                elif await self._failed(batch, claimed, error):
                    dead.append((claimed, error))
            count = len(batch.tasks)
        for claimed, error in dead:  # logged once the batch is recorded, never before
            log.error("tasks.dead", extra=_fields(claimed, error), exc_info=error)
        return count

    async def drain(self) -> int:
        """Runs batches until none is due; returns how many tasks ran."""
        total = 0
        while ran := await self.run_once():
            total += ran
        return total

    async def run_until(
        self,
        stop: asyncio.Event,
        *,
        idle_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        """Keeps running batches until `stop` is set; waits `idle_seconds` when none is due and
        backs off while the queue itself fails (a batch that failed stays pending)."""
        backoff = idle_seconds
        while not stop.is_set():
            try:
                ran = await self.run_once()
                backoff = idle_seconds
            except Exception:
                log.exception("tasks.worker.failed", extra={"retry_in_s": backoff})
                backoff = min(backoff * 2, max_backoff_seconds)
                await _sleep_or_stop(stop, backoff)
                continue
            if not ran:
                await _sleep_or_stop(stop, idle_seconds)

    async def _run(self, claimed: ClaimedTask) -> Exception | None:
        task = claimed.task
        deadline = asyncio.timeout(self._handler_timeout)
        # The run continues the trace of what scheduled it (a request, an event's consumer).
        with tracer.start_as_current_span(
            f"task {task.kind}",
            context=context_of(claimed.trace_context),
            kind=SpanKind.CONSUMER,
            attributes={"focus.task.kind": task.kind, "focus.task.attempt": claimed.attempts + 1},
        ) as span:
            try:
                async with deadline:
                    await self._handlers.run(task.kind, task.payload)
            except Exception as error:  # the task's failure, recorded on the task: not ours
                span.record_exception(error)
                span.set_status(trace.StatusCode.ERROR)
                if deadline.expired():
                    return TimeoutError(f"the handler ran longer than {self._handler_timeout:g}s")
                return error
        return None

    async def _failed(self, batch: TaskBatch, claimed: ClaimedTask, error: Exception) -> bool:
        """Records a failed run; True when it was the last one allowed."""
        failures = claimed.attempts + 1
        reason = f"{type(error).__name__}: {error}"
        if failures >= self._max_attempts:
            await batch.bury(claimed.id, error=reason)
            return True
        delay = self.backoff(failures)
        await batch.retry(claimed.id, at=self._clock() + delay, error=reason)
        log.warning(
            "tasks.failed",
            extra={**_fields(claimed, error), "retry_in_s": delay.total_seconds()},
            exc_info=error,
        )
        return False

    def backoff(self, failures: int) -> timedelta:
        """The wait after the `failures`-th failed run: base·2^(failures-1), capped, jittered."""
        step: timedelta = min(self._base_delay * 2 ** min(failures - 1, 32), self._max_delay)
        return step / 2 + step / 2 * self._jitter()


def _fields(claimed: ClaimedTask, error: Exception) -> dict[str, Any]:
    return {
        "task_id": str(claimed.id),
        "task_kind": claimed.task.kind,
        "task_name": claimed.task.name,
        "attempts": claimed.attempts + 1,
        "error": f"{type(error).__name__}: {error}",
    }


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
