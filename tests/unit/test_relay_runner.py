"""The relay loop: keeps draining, survives a failing publisher, stops when told."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import anyio

from domain.events import DomainEvent, EventType
from events.relay import OutboxRelay
from events.runner import relay_until
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FlakyPublisher:
    """Fails its first `failures` batches, then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[DomainEvent] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("unreachable")
        self.accepted.extend(events)


def test_a_failing_publisher_is_retried_until_the_events_are_out() -> None:
    uow = FakeUnitOfWork()
    event = DomainEvent(EventType.PROFILE_UPDATED, "u1", "u1", 1, NOW)
    publisher = FlakyPublisher(failures=2)
    relay = OutboxRelay(lambda: uow, publisher, clock=lambda: NOW)

    async def scenario() -> None:
        async with uow:
            await uow.outbox.add(event)
            await uow.commit()
        stop = asyncio.Event()
        running = asyncio.create_task(relay_until(stop, relay, idle_seconds=0.01))
        for _ in range(200):
            if publisher.accepted:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, timeout=2)

    anyio.run(scenario)

    assert publisher.accepted == [event]
    assert uow.outbox.published == {event.id}


def test_a_drain_stops_between_batches_when_told() -> None:
    uow = FakeUnitOfWork()
    events = [DomainEvent(EventType.PROFILE_UPDATED, "u1", "u1", n, NOW) for n in range(1, 4)]
    stop = asyncio.Event()

    class StopsAfterOneBatch:
        async def publish(self, batch: Sequence[DomainEvent]) -> None:
            stop.set()

    relay = OutboxRelay(lambda: uow, StopsAfterOneBatch(), clock=lambda: NOW, batch_size=1)

    async def scenario() -> int:
        async with uow:
            for event in events:
                await uow.outbox.add(event)
            await uow.commit()
        return await relay.drain(stop)

    assert anyio.run(scenario) == 1
    assert uow.outbox.published == {events[0].id}
