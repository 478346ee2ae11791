"""The relay's metrics: events and batches counted, publish time observed, the outbox's lag.

The Prometheus registry is the process's: counters are compared before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from prometheus_client import REGISTRY

from domain.events import DomainEvent, EventType
from events.relay import OutboxRelay
from tests.support.clock import TestClock
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Publisher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.accepted: list[DomainEvent] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if self.fail:
            raise ConnectionError("unreachable")
        self.accepted.extend(events)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def counters() -> dict[str, float]:
    return {
        "events": sample("focus_outbox_events_published_total"),
        "published": sample("focus_outbox_relay_batches_total", outcome="published"),
        "failed": sample("focus_outbox_relay_batches_total", outcome="failed"),
        "timed": sample("focus_outbox_publish_seconds_count"),
    }


def moved(before: dict[str, float]) -> dict[str, float]:
    return {name: value - before[name] for name, value in counters().items()}


def lag() -> float | None:
    return REGISTRY.get_sample_value("focus_outbox_lag_seconds")


def outbox_with(*ages: timedelta) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()

    async def add() -> None:
        async with uow:
            for age in ages:
                await uow.outbox.add(
                    DomainEvent(EventType.PROFILE_UPDATED, "u1", "u1", 1, NOW - age)
                )
            await uow.commit()

    anyio.run(add)
    return uow


def test_published_batches_count_their_events_and_time() -> None:
    uow = outbox_with(*[timedelta(seconds=5)] * 3)
    publisher = Publisher()
    relay = OutboxRelay(lambda: uow, publisher, clock=lambda: NOW, batch_size=2)
    before = counters()

    assert anyio.run(relay.drain) == 3

    assert moved(before) == {"events": 3, "published": 2, "failed": 0, "timed": 2}


def test_the_lag_is_the_first_waiting_events_age_and_falls_to_zero_when_drained() -> None:
    uow = outbox_with(timedelta(seconds=90), timedelta(seconds=30))
    clock = TestClock()
    clock.set(NOW)
    relay = OutboxRelay(lambda: uow, Publisher(), clock=clock, batch_size=1)

    anyio.run(relay.run_once)
    measured_first = lag()
    clock.advance(timedelta(seconds=10))
    anyio.run(relay.run_once)  # busy, within a second of the last measurement: not measured
    measured_busy = lag()
    anyio.run(relay.run_once)  # idle: always measured
    measured_idle = lag()

    assert (measured_first, measured_busy, measured_idle) == (90.0, 90.0, 0.0)


def test_a_busy_relay_measures_again_once_the_interval_has_passed() -> None:
    uow = outbox_with(timedelta(seconds=90), timedelta(seconds=30))
    relay = OutboxRelay(
        lambda: uow, Publisher(), clock=lambda: NOW, batch_size=1, lag_every_seconds=0
    )

    anyio.run(relay.run_once)
    anyio.run(relay.run_once)

    assert lag() == 30.0  # the second batch's event, while still pending


def test_a_failed_batch_is_counted_and_its_events_stay_pending_and_late() -> None:
    uow = outbox_with(timedelta(minutes=2))
    relay = OutboxRelay(lambda: uow, Publisher(fail=True), clock=lambda: NOW)
    before = counters()

    with pytest.raises(ConnectionError):
        anyio.run(relay.run_once)

    assert moved(before) == {"events": 0, "published": 0, "failed": 1, "timed": 0}
    assert lag() == 120.0
    assert uow.outbox.published == set()
