"""A subscription handles each event once, retries what failed, and records poison."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.consumer_log import PostgresFailedMessages, PostgresProcessedEvents
from domain.common import utc_now
from domain.consumers import PoisonMessage, ReceivedMessage, Verdict
from domain.events import DomainEvent, EventType
from events.codec import encode
from events.consumer import EventConsumer

pytestmark = pytest.mark.anyio

Handler = Callable[[DomainEvent], Awaitable[None]]


class Handled:
    """A handler that remembers what it saw, and can be told to fail."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.failures_left = 0
        self.poison = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, event: DomainEvent) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.poison:
            raise PoisonMessage("this event can never be handled")
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("a store is down")
        self.seen.append(str(event.id))


@pytest.fixture
def user_id(database_url: str) -> str:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (uid, change_seq, created_at, updated_at)"
            " VALUES (%s, 1, now(), now())",
            (uid,),
        )
    return uid


def consumer(engine: AsyncEngine, handler: Handler, max_attempts: int = 5) -> EventConsumer:
    return EventConsumer(
        {"notifications": handler},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=utc_now,
        max_attempts=max_attempts,
    )


def message(event: DomainEvent, attempt: int | None = None) -> ReceivedMessage:
    return ReceivedMessage(
        "notifications", encode(event), {"event_id": str(event.id)}, "m-1", attempt
    )


def event_of(user_id: str) -> DomainEvent:
    return DomainEvent(EventType.SCHEDULE_UPDATED, user_id, str(uuid.uuid4()), 7, utc_now())


def failed_rows(database_url: str, event_id: str) -> list[tuple[str, str, int]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT subscription, error, attempts FROM failed_messages WHERE event_id = %s",
            (event_id,),
        ).fetchall()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


async def test_a_redelivered_event_is_acknowledged_without_running_again(
    engine: AsyncEngine, user_id: str
) -> None:
    handler = Handled()
    events = consumer(engine, handler)
    event = event_of(user_id)

    assert await events.receive(message(event)) is Verdict.ACK
    assert await events.receive(message(event)) is Verdict.ACK

    assert handler.seen == [str(event.id)]


async def test_a_failed_handler_asks_for_redelivery_and_the_redelivery_succeeds(
    engine: AsyncEngine, user_id: str
) -> None:
    handler = Handled()
    handler.failures_left = 1
    events = consumer(engine, handler)
    event = event_of(user_id)

    assert await events.receive(message(event, attempt=1)) is Verdict.RETRY
    assert handler.seen == []
    assert await events.receive(message(event, attempt=2)) is Verdict.ACK
    assert handler.seen == [str(event.id)]


async def test_poison_is_recorded_and_acknowledged_not_retried(
    engine: AsyncEngine, user_id: str, database_url: str
) -> None:
    handler = Handled()
    handler.poison = True
    event = event_of(user_id)

    assert await consumer(engine, handler).receive(message(event)) is Verdict.ACK

    [(subscription, error, attempts)] = failed_rows(database_url, str(event.id))
    assert subscription == "notifications"
    assert error.startswith("PoisonMessage")
    assert attempts == 1


async def test_a_message_that_is_not_an_event_is_recorded_and_acknowledged(
    engine: AsyncEngine, database_url: str
) -> None:
    marker = str(uuid.uuid4())
    garbage = ReceivedMessage("notifications", b"{not json", {"event_id": marker}, "m-2")

    assert await consumer(engine, Handled()).receive(garbage) is Verdict.ACK

    [(_, error, _)] = failed_rows(database_url, marker)
    assert error.startswith("UndecodableEvent")


async def test_after_the_last_attempt_a_failing_message_is_recorded_and_acknowledged(
    engine: AsyncEngine, user_id: str, database_url: str
) -> None:
    handler = Handled()
    handler.failures_left = 99
    events = consumer(engine, handler, max_attempts=3)
    event = event_of(user_id)

    verdicts = [await events.receive(message(event, attempt=n)) for n in (1, 2, 3)]

    assert verdicts == [Verdict.RETRY, Verdict.RETRY, Verdict.ACK]
    [(_, error, attempts)] = failed_rows(database_url, str(event.id))
    assert error.startswith("ConnectionError")
    assert attempts == 3


async def test_replay_runs_recorded_failures_again_once_the_cause_is_fixed(
    engine: AsyncEngine, user_id: str
) -> None:
    handler = Handled()
    handler.poison = True
    events = consumer(engine, handler)
    event = event_of(user_id)
    await events.receive(message(event))

    handler.poison = False
    first = await events.replay("notifications")
    second = await events.replay("notifications")

    assert str(event.id) in handler.seen
    assert first.replayed >= 1
    assert second.replayed == 0  # replayed messages are not run twice


async def test_two_deliveries_at_once_run_the_handler_once(
    engine: AsyncEngine, user_id: str
) -> None:
    handler = Handled()
    handler.gate = asyncio.Event()
    events = consumer(engine, handler)
    event = event_of(user_id)

    both = asyncio.gather(events.receive(message(event)), events.receive(message(event)))
    await asyncio.sleep(0.2)  # both deliveries reach the handler's gate or the row lock
    handler.gate.set()

    assert await both == [Verdict.ACK, Verdict.ACK]
    assert handler.seen == [str(event.id)]


async def test_events_of_an_erased_user_are_skipped(
    engine: AsyncEngine, user_id: str, database_url: str
) -> None:
    handler = Handled()
    event = event_of(user_id)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE uid = %s", (user_id,))

    assert await consumer(engine, handler).receive(message(event)) is Verdict.ACK
    assert handler.seen == []
