"""The Postgres task queue and its worker: when tasks run, names, retries, and several workers.

Every test uses task kinds of its own: a worker claims only kinds it has handlers for, so the
tasks other tests leave in the shared database never reach it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.task_queue import PostgresTaskQueue
from domain.common import utc_now
from domain.tasks import Task
from jobs.registry import TaskHandlers
from jobs.worker import TaskWorker
from tests.support.clock import TestClock

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def now(clock: TestClock) -> datetime:
    """Time held still at a whole second; tests move it with `clock.advance`."""
    instant = utc_now().replace(microsecond=0)
    clock.set(instant)
    return instant


@pytest.fixture
def queue(engine: AsyncEngine, clock: TestClock) -> PostgresTaskQueue:
    return PostgresTaskQueue(engine, clock=clock)


@pytest.fixture
def kind() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


class Handler:
    """Records every payload it runs; fails its first `failures` runs; may wait on a gate."""

    def __init__(self, failures: int = 0, gate: asyncio.Event | None = None) -> None:
        self.ran: list[dict[str, Any]] = []
        self.failures = failures
        self.gate = gate

    async def __call__(self, payload: Mapping[str, Any]) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.ran.append(dict(payload))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("APNs is unreachable")


def worker_for(
    queue: PostgresTaskQueue, clock: TestClock, kind: str, handler: Handler, **options: Any
) -> TaskWorker:
    handlers = TaskHandlers()
    handlers.register(kind, handler)
    options.setdefault("jitter", lambda: 1.0)  # the whole exponential step: exact run_at
    return TaskWorker(queue, handlers, clock=clock, **options)


async def row_of(engine: AsyncEngine, name: str) -> Any:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT * FROM scheduled_tasks WHERE name = :name"), {"name": name}
        )
        return found.one()


def unique_name() -> str:
    return f"t-{uuid.uuid4().hex}"


@pytest.mark.anyio
async def test_a_due_task_runs_and_a_later_one_waits_for_its_time(
    queue: PostgresTaskQueue, clock: TestClock, now: datetime, kind: str
) -> None:
    handler = Handler()
    worker = worker_for(queue, clock, kind, handler)
    await queue.schedule(Task(kind, {"n": 1}, now - timedelta(seconds=1)))
    await queue.schedule(Task(kind, {"n": 2}, now + timedelta(hours=1)))

    first = await worker.drain()
    clock.advance(timedelta(hours=1))
    second = await worker.drain()

    assert (first, second) == (1, 1)
    assert handler.ran == [{"n": 1}, {"n": 2}]


@pytest.mark.anyio
async def test_a_name_is_taken_while_its_task_is_pending_and_until_the_done_task_is_purged(
    queue: PostgresTaskQueue, clock: TestClock, now: datetime, kind: str
) -> None:
    name = unique_name()
    handler = Handler()
    worker = worker_for(queue, clock, kind, handler)

    scheduled = await queue.schedule(Task(kind, {"n": 1}, now, name=name))
    while_pending = await queue.schedule(Task(kind, {"n": 2}, now, name=name))
    await worker.drain()
    after_it_ran = await queue.schedule(Task(kind, {"n": 3}, now, name=name))
    clock.advance(timedelta(hours=2))
    purged = await queue.purge(older_than=timedelta(hours=1))
    after_the_purge = await queue.schedule(Task(kind, {"n": 4}, clock(), name=name))
    await worker.drain()

    assert (scheduled, while_pending, after_it_ran) == (True, False, False)
    assert purged >= 1
    assert after_the_purge is True
    assert handler.ran == [{"n": 1}, {"n": 4}]


@pytest.mark.anyio
async def test_a_failed_task_runs_again_after_an_exponential_backoff(
    queue: PostgresTaskQueue, engine: AsyncEngine, clock: TestClock, now: datetime, kind: str
) -> None:
    name = unique_name()
    handler = Handler(failures=2)
    worker = worker_for(queue, clock, kind, handler, base_delay=timedelta(seconds=10))
    await queue.schedule(Task(kind, {"n": 1}, now, name=name))

    await worker.drain()
    after_one = await row_of(engine, name)
    clock.advance(timedelta(seconds=9))
    too_early = await worker.drain()
    clock.advance(timedelta(seconds=1))
    await worker.drain()
    after_two = await row_of(engine, name)
    clock.advance(timedelta(seconds=20))
    await worker.drain()
    done = await row_of(engine, name)

    assert (after_one.status, after_one.attempts) == ("pending", 1)
    assert after_one.run_at == now + timedelta(seconds=10)
    assert after_one.last_error == "ConnectionError: APNs is unreachable"
    assert too_early == 0
    assert after_two.run_at == now + timedelta(seconds=10 + 20)
    assert (done.status, done.attempts) == ("done", 2)
    assert len(handler.ran) == 3


@pytest.mark.anyio
async def test_a_task_failing_every_time_is_dead_after_max_attempts_and_logged(
    queue: PostgresTaskQueue,
    engine: AsyncEngine,
    clock: TestClock,
    now: datetime,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = unique_name()
    handler = Handler(failures=100)
    worker = worker_for(queue, clock, kind, handler, max_attempts=3)
    await queue.schedule(Task(kind, {"n": 1}, now, name=name))

    with caplog.at_level(logging.WARNING, logger="events.tasks"):
        for _ in range(5):
            await worker.drain()
            clock.advance(timedelta(hours=2))
    dead = await row_of(engine, name)

    assert (dead.status, dead.attempts) == ("dead", 3)
    assert len(handler.ran) == 3
    deaths = [r for r in caplog.records if r.message == "tasks.dead"]
    assert [(r.levelno, r.task_name, r.attempts) for r in deaths] == [(logging.ERROR, name, 3)]
    assert await queue.schedule(Task(kind, {"n": 2}, clock(), name=name)) is False


@pytest.mark.anyio
async def test_a_worker_claims_only_the_kinds_it_has_handlers_for(
    queue: PostgresTaskQueue, clock: TestClock, now: datetime, kind: str
) -> None:
    handler = Handler()
    worker = worker_for(queue, clock, kind, handler)
    await queue.schedule(Task(f"{kind}.newer", {"n": 1}, now))
    await queue.schedule(Task(kind, {"n": 2}, now))

    ran = await worker.drain()

    assert ran == 1
    assert handler.ran == [{"n": 2}]


@pytest.mark.anyio
async def test_two_workers_at_once_never_run_one_task_twice(
    queue: PostgresTaskQueue, clock: TestClock, now: datetime, kind: str
) -> None:
    gate = asyncio.Event()
    first, second = Handler(gate=gate), Handler(gate=gate)
    workers = [worker_for(queue, clock, kind, h, batch_size=3) for h in (first, second)]
    for n in range(6):
        await queue.schedule(Task(kind, {"n": n}, now))

    runs = [asyncio.create_task(w.run_once()) for w in workers]
    await asyncio.sleep(0.3)  # both have claimed their batch and wait inside a handler
    gate.set()
    counts = await asyncio.gather(*runs)

    assert counts == [3, 3]
    ran = [p["n"] for p in first.ran + second.ran]
    assert sorted(ran) == list(range(6))


KILLED_WORKER = """
import asyncio, sys
from datastore.postgres.engine import create_engine
from datastore.postgres.task_queue import PostgresTaskQueue
from jobs.registry import TaskHandlers
from jobs.worker import TaskWorker

async def hang(payload):
    print("started", flush=True)
    await asyncio.sleep(3600)

async def main(url, kind):
    handlers = TaskHandlers()
    handlers.register(kind, hang)
    await TaskWorker(PostgresTaskQueue(create_engine(url)), handlers).run_once()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.anyio
async def test_a_task_whose_worker_was_killed_mid_run_runs_again(
    queue: PostgresTaskQueue, database_url: str, clock: TestClock, now: datetime, kind: str
) -> None:
    await queue.schedule(Task(kind, {"n": 1}, now - timedelta(seconds=1)))
    doomed = await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", KILLED_WORKER, database_url, kind],
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert doomed.stdout is not None
        started = await asyncio.wait_for(doomed.stdout.readline(), timeout=30)
        handler = Handler()
        survivor = worker_for(queue, clock, kind, handler)
        while_held = await survivor.drain()
    finally:
        doomed.kill()  # SIGKILL: no cleanup, the connection just drops
        await doomed.wait()
    for _ in range(50):  # the server notices the dropped connection and rolls back
        if await survivor.drain():
            break
        await asyncio.sleep(0.1)

    assert started == b"started\n"
    assert while_held == 0
    assert handler.ran == [{"n": 1}]
