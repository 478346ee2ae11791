"""The task worker on an in-memory queue: backoff, timeouts, its loop, the handler registry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from domain.tasks import Task, UnknownTaskKind
from jobs.registry import TaskHandlers
from jobs.worker import TaskWorker
from tests.support.clock import TestClock
from tests.unit.fakes.task_queue import FakeTaskQueue

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at_now() -> TestClock:
    clock = TestClock()
    clock.set(NOW)
    return clock


def handlers_of(**by_kind: Any) -> TaskHandlers:
    handlers = TaskHandlers()
    for kind, handler in by_kind.items():
        handlers.register(kind.replace("_", "."), handler)
    return handlers


def test_the_backoff_doubles_up_to_its_cap_and_jitter_shortens_it_by_half_at_most() -> None:
    def worker(jitter: float) -> TaskWorker:
        return TaskWorker(
            FakeTaskQueue(at_now()),
            TaskHandlers(),
            base_delay=timedelta(seconds=10),
            max_delay=timedelta(minutes=1),
            jitter=lambda: jitter,
        )

    steps = [worker(1.0).backoff(n).total_seconds() for n in range(1, 6)]

    assert steps == [10, 20, 40, 60, 60]
    assert worker(0.0).backoff(3) == timedelta(seconds=20)
    assert worker(1.0).backoff(200) == timedelta(minutes=1)


def test_a_handler_that_overruns_its_timeout_is_a_failed_run() -> None:
    clock = at_now()
    queue = FakeTaskQueue(clock)

    async def hang(payload: Mapping[str, Any]) -> None:
        await asyncio.sleep(60)

    worker = TaskWorker(
        queue, handlers_of(push_deliver=hang), clock=clock, handler_timeout=timedelta(seconds=0.05)
    )

    async def scenario() -> int:
        await queue.schedule(Task("push.deliver", {}, NOW))
        return await worker.run_once()

    assert anyio.run(scenario) == 1
    (stored,) = queue.by_kind("push.deliver")
    assert (stored.status, stored.attempts, stored.last_error) == (
        "pending",
        1,
        "TimeoutError: the handler ran longer than 0.05s",
    )


def test_a_worker_without_handlers_claims_nothing() -> None:
    clock = at_now()
    queue = FakeTaskQueue(clock)

    async def scenario() -> int:
        await queue.schedule(Task("push.deliver", {}, NOW))
        return await TaskWorker(queue, TaskHandlers(), clock=clock).drain()

    assert anyio.run(scenario) == 0
    assert [s.status for s in queue.by_kind("push.deliver")] == ["pending"]


def test_the_loop_outlasts_a_failing_queue_and_stops_when_told() -> None:
    clock = at_now()
    queue = FakeTaskQueue(clock, failing_claims=2)
    ran: list[Mapping[str, Any]] = []

    async def remember(payload: Mapping[str, Any]) -> None:
        ran.append(payload)

    worker = TaskWorker(queue, handlers_of(push_deliver=remember), clock=clock)

    async def scenario() -> None:
        await queue.schedule(Task("push.deliver", {"n": 1}, NOW))
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run_until(stop, idle_seconds=0.01))
        for _ in range(200):
            if ran:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, timeout=2)

    anyio.run(scenario)

    assert ran == [{"n": 1}]
    assert [s.status for s in queue.by_kind("push.deliver")] == ["done"]


def test_a_second_handler_for_one_kind_is_refused() -> None:
    async def nothing(payload: Mapping[str, Any]) -> None:
        return None

    handlers = handlers_of(push_deliver=nothing)

    with pytest.raises(ValueError, match="already registered"):
        handlers.register("push.deliver", nothing)


def test_running_a_kind_nobody_handles_raises_unknown_task_kind() -> None:
    with pytest.raises(UnknownTaskKind):
        anyio.run(TaskHandlers().run, "push.deliver", {})


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Push.Deliver", None), ("push deliver", None), ("push.deliver", "a/b"), ("x", "n" * 101)],
)
def test_a_task_kind_or_name_cloud_tasks_would_refuse_is_refused(kind: str, name: str) -> None:
    with pytest.raises(ValueError, match="task"):
        Task(kind, {}, NOW, name=name)


def test_a_task_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Task("push.deliver", {}, datetime(2026, 11, 23, 9, 0))
