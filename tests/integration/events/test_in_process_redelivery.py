"""The embedded default's path: relay → in-process publisher → consumer, on a real database.

A handler that keeps failing for one user's event holds back nobody: the relay marks its
batch published, the event is delivered again by a task with Pub/Sub's backoff, and on the
last attempt it is recorded in `failed_messages`, where `focus events replay` finds it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.consumer_log import PostgresFailedMessages, PostgresProcessedEvents
from datastore.postgres.task_queue import PostgresTaskQueue
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.events import DomainEvent, EventType
from events.codec import encode
from events.consumer import EventConsumer
from events.in_process import InProcessPublisher
from events.redelivery import REDELIVER_TASK, Redeliveries
from events.relay import OutboxRelay
from jobs.registry import TaskHandlers
from jobs.worker import TaskWorker
from tests.support.clock import TestClock

pytestmark = pytest.mark.anyio


@dataclass
class Handler:
    """Sees every event; fails for the users it is told to, for as long as it is told to."""

    users: set[str]
    failing: set[str] = field(default_factory=set)
    attempts: dict[str, int] = field(default_factory=dict)
    handled: list[str] = field(default_factory=list)

    async def __call__(self, event: DomainEvent) -> None:
        if event.user_id not in self.users:
            return
        self.attempts[event.user_id] = self.attempts.get(event.user_id, 0) + 1
        if event.user_id in self.failing:
            raise ConnectionError("a push service is down")
        self.handled.append(event.user_id)


@dataclass
class Embedded:
    relay: OutboxRelay
    worker: TaskWorker
    consumer: EventConsumer


@pytest.fixture
def frozen(clock: TestClock) -> TestClock:
    clock.set(datetime.now(UTC).replace(microsecond=0))
    return clock


def embedded(engine: AsyncEngine, clock: TestClock, handler: Handler, attempts: int) -> Embedded:
    queue = PostgresTaskQueue(engine, clock=clock)
    consumer = EventConsumer(
        {"notifications": handler},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=clock,
        max_attempts=attempts,
        redeliveries=Redeliveries(queue, clock=clock),
    )
    publisher = InProcessPublisher()
    publisher.subscribe_all(consumer.consume_everywhere)
    tasks = TaskHandlers()
    tasks.register(REDELIVER_TASK, consumer.redeliver)
    relay = OutboxRelay(lambda: PostgresUnitOfWork(engine), publisher, clock=clock)
    return Embedded(relay, TaskWorker(queue, tasks, clock=clock), consumer)


async def change(engine: AsyncEngine, clock: TestClock, uid: str) -> DomainEvent:
    """What a write commits: the user's next version and its event in the outbox."""
    async with PostgresUnitOfWork(engine) as uow:
        version = await uow.next_version(uid)
        event = DomainEvent(EventType.SYNC_REQUESTED, uid, uid, version, clock())
        await uow.outbox.add(event)
        await uow.commit()
    return event


def new_uid() -> str:
    return f"u-{uuid.uuid4().hex[:20]}"


def pending_of(database_url: str, *uids: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox_events WHERE published_at IS NULL AND user_id = ANY(%s)",
            (list(uids),),
        ).fetchone()
    assert row is not None
    return int(row[0])


def failed_rows(database_url: str, event: DomainEvent) -> list[tuple[str, str, int]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT subscription, error, attempts FROM failed_messages"
            " WHERE event_id = %s AND replayed_at IS NULL",
            (str(event.id),),
        ).fetchall()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


async def test_a_handler_failing_for_one_user_holds_back_no_other_users_events(
    engine: AsyncEngine, frozen: TestClock, database_url: str
) -> None:
    alice, bob = new_uid(), new_uid()
    handler = Handler({alice, bob}, failing={alice})
    stack = embedded(engine, frozen, handler, attempts=10)
    await change(engine, frozen, alice)
    await change(engine, frozen, bob)

    await stack.relay.drain()

    assert handler.handled == [bob]
    assert pending_of(database_url, alice, bob) == 0


async def test_a_failing_event_is_delivered_again_with_backoff_then_recorded_for_replay(
    engine: AsyncEngine, frozen: TestClock, database_url: str
) -> None:
    alice = new_uid()
    handler = Handler({alice}, failing={alice})
    stack = embedded(engine, frozen, handler, attempts=3)
    event = await change(engine, frozen, alice)

    await stack.relay.drain()
    frozen.advance(timedelta(seconds=9))
    await stack.worker.drain()
    assert handler.attempts[alice] == 1  # not before Pub/Sub's first backoff (10 s)
    frozen.advance(timedelta(seconds=1))
    await stack.worker.drain()
    assert handler.attempts[alice] == 2
    assert failed_rows(database_url, event) == []
    frozen.advance(timedelta(seconds=20))  # the backoff doubles
    await stack.worker.drain()

    assert handler.attempts[alice] == 3
    [(subscription, error, attempts)] = failed_rows(database_url, event)
    assert (subscription, error.split(":")[0], attempts) == ("notifications", "ConnectionError", 3)
    frozen.advance(timedelta(hours=1))
    await stack.worker.drain()
    assert handler.attempts[alice] == 3  # given up: no further delivery

    handler.failing.clear()  # the cause fixed, `focus events replay` runs it
    await stack.consumer.replay("notifications")
    assert handler.handled == [alice]
    assert failed_rows(database_url, event) == []


async def test_a_redelivery_that_succeeds_is_handled_once(
    engine: AsyncEngine, frozen: TestClock, database_url: str
) -> None:
    alice = new_uid()
    handler = Handler({alice}, failing={alice})
    stack = embedded(engine, frozen, handler, attempts=10)
    event = await change(engine, frozen, alice)
    await stack.relay.drain()

    handler.failing.clear()
    frozen.advance(timedelta(seconds=10))
    await stack.worker.drain()
    frozen.advance(timedelta(hours=1))
    await stack.worker.drain()

    assert handler.handled == [alice]
    assert handler.attempts[alice] == 2
    assert failed_rows(database_url, event) == []


async def test_a_redelivery_for_a_subscription_removed_since_is_kept_for_replay(
    engine: AsyncEngine, frozen: TestClock, database_url: str
) -> None:
    alice = new_uid()
    stack = embedded(engine, frozen, Handler({alice}), attempts=10)
    event = DomainEvent(EventType.SYNC_REQUESTED, alice, alice, 1, frozen())
    payload = {"subscription": "retired", "event": encode(event).decode(), "attempt": 2}

    await stack.consumer.redeliver(payload)

    [(subscription, error, attempts)] = failed_rows(database_url, event)
    assert (subscription, error.split(":")[0], attempts) == ("retired", "LookupError", 2)
