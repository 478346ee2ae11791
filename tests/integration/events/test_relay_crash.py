"""A relay that dies after publishing and before marking: the batch goes out again, and the
consumers still handle each event once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.consumer_log import PostgresFailedMessages, PostgresProcessedEvents
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.consumer import EventConsumer
from events.in_process import InProcessPublisher
from events.relay import OutboxRelay

pytestmark = pytest.mark.anyio


class RelayKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no `except Exception` catches it."""


class DiesAfterPublishing:
    def __init__(self, publisher: InProcessPublisher) -> None:
        self._publisher = publisher

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        await self._publisher.publish(events)
        raise RelayKilled


async def test_a_batch_published_twice_is_handled_once(
    engine: AsyncEngine, database_url: str
) -> None:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    async with PostgresUnitOfWork(engine) as uow:
        for n in range(3):
            version = await uow.next_version(uid)
            await uow.outbox.add(
                DomainEvent(EventType.SCHEDULE_UPDATED, uid, f"s-{n}", version, utc_now())
            )
        await uow.commit()
    handled: list[str] = []

    async def handler(event: DomainEvent) -> None:
        if event.user_id == uid:
            handled.append(event.subject_id)

    consumer = EventConsumer(
        {"notifications": handler},
        PostgresProcessedEvents(engine),
        PostgresFailedMessages(engine),
        clock=utc_now,
    )
    publisher = InProcessPublisher()
    publisher.subscribe_all(consumer.consume_everywhere)

    def relay(publisher: object) -> OutboxRelay:
        return OutboxRelay(lambda: PostgresUnitOfWork(engine), publisher, clock=utc_now)  # type: ignore[arg-type]

    with pytest.raises(RelayKilled):
        await relay(DiesAfterPublishing(publisher)).drain()
    await relay(publisher).drain()  # the next relay finds the batch unmarked

    assert handled == ["s-0", "s-1", "s-2"]
    with psycopg.connect(database_url) as conn:
        pending = conn.execute(
            "SELECT count(*) FROM outbox_events WHERE user_id = %s AND published_at IS NULL",
            (uid,),
        ).fetchone()
    assert pending == (0,)
