"""The outbox relay on a real database: in order, at least once, never twice at the same time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.testclient import TestClient

from app.bootstrap import build, build_app
from app.settings import Settings
from datastore.postgres.schema import upgrade
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from domain.unit_of_work import UnitOfWork
from events.relay import OutboxRelay
from tests.conftest import ApiUser
from tests.support.clock import TestClock


@pytest.fixture
def unit_of_work(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    return lambda: PostgresUnitOfWork(engine)


class Recorder:
    def __init__(self, fail: bool = False, pause: asyncio.Event | None = None) -> None:
        self.batches: list[list[DomainEvent]] = []
        self.fail = fail
        self.pause = pause

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if self.pause is not None:
            await self.pause.wait()
        if self.fail:
            raise ConnectionError("Pub/Sub is unreachable")
        self.batches.append(list(events))

    def of(self, user: ApiUser) -> list[str]:
        return [e.type for batch in self.batches for e in batch if e.user_id == user.uid]


def make_changes(client: TestClient, user: ApiUser, count: int) -> None:
    for n in range(count):
        body = {"name": f"List {n}", "items": [{"kind": "category", "value": "games"}]}
        assert client.post("/v1/blocklists", headers=user.headers, json=body).status_code == 201


@pytest.mark.anyio
async def test_pending_events_are_published_in_order_then_marked(
    client: TestClient, alice: ApiUser, unit_of_work: Callable[[], UnitOfWork]
) -> None:
    make_changes(client, alice, 3)
    published = Recorder()
    relay = OutboxRelay(unit_of_work, published, clock=utc_now, batch_size=2)

    await relay.drain()
    again = Recorder()
    await OutboxRelay(unit_of_work, again, clock=utc_now).drain()

    assert published.of(alice) == ["blocklist.created"] * 3
    ids = [e.id for batch in published.batches for e in batch if e.user_id == alice.uid]
    assert ids == sorted(ids)  # UUIDv7: the order they were written in
    assert again.of(alice) == []


@pytest.mark.anyio
async def test_a_failed_publish_loses_nothing(
    client: TestClient, alice: ApiUser, unit_of_work: Callable[[], UnitOfWork]
) -> None:
    make_changes(client, alice, 2)

    with pytest.raises(ConnectionError):
        await OutboxRelay(unit_of_work, Recorder(fail=True), clock=utc_now).drain()
    retried = Recorder()
    await OutboxRelay(unit_of_work, retried, clock=utc_now).drain()

    assert retried.of(alice) == ["blocklist.created"] * 2


@pytest.mark.anyio
async def test_two_relays_at_once_never_hold_the_same_event(
    client: TestClient, alice: ApiUser, unit_of_work: Callable[[], UnitOfWork]
) -> None:
    await OutboxRelay(unit_of_work, Recorder(), clock=utc_now).drain()  # start from empty
    make_changes(client, alice, 4)
    gate = asyncio.Event()
    first, second = Recorder(pause=gate), Recorder(pause=gate)
    relays = [OutboxRelay(unit_of_work, r, clock=utc_now, batch_size=2) for r in (first, second)]

    runs = [asyncio.create_task(relay.run_once()) for relay in relays]
    await asyncio.sleep(0.2)  # both have claimed their batch and wait inside publish
    gate.set()
    counts = await asyncio.gather(*runs)

    assert counts == [2, 2]
    ids_first = {e.id for batch in first.batches for e in batch}
    ids_second = {e.id for batch in second.batches for e in batch}
    assert ids_first.isdisjoint(ids_second)
    assert len(first.of(alice) + second.of(alice)) == 4


@pytest.mark.anyio
async def test_the_lag_is_the_age_of_the_first_waiting_event_in_the_database(
    client: TestClient,
    alice: ApiUser,
    unit_of_work: Callable[[], UnitOfWork],
    clock: TestClock,
) -> None:
    await OutboxRelay(unit_of_work, Recorder(), clock=utc_now).drain()  # start from empty
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    make_changes(client, alice, 2)
    clock.advance(timedelta(seconds=42))

    with pytest.raises(ConnectionError):
        await OutboxRelay(unit_of_work, Recorder(fail=True), clock=clock).run_once()
    while_stuck = REGISTRY.get_sample_value("focus_outbox_lag_seconds")
    await OutboxRelay(unit_of_work, Recorder(), clock=clock).drain()
    once_drained = REGISTRY.get_sample_value("focus_outbox_lag_seconds")

    assert (while_stuck, once_drained) == (42.0, 0.0)


@pytest.mark.anyio
async def test_the_mark_skips_waiting_for_the_disk_in_its_own_transaction_only(
    client: TestClient, alice: ApiUser, engine: AsyncEngine, unit_of_work: Callable[[], UnitOfWork]
) -> None:
    await OutboxRelay(unit_of_work, Recorder(), clock=utc_now).drain()  # start from empty
    make_changes(client, alice, 1)

    async with PostgresUnitOfWork(engine) as uow:
        batch = await uow.outbox.claim_pending(10)
        await uow.outbox.mark_published([e.id for e in batch], utc_now())
        while_marking = await uow.connection.scalar(text("SHOW synchronous_commit"))
        await uow.commit()
        afterwards = await uow.connection.scalar(text("SHOW synchronous_commit"))

    assert (len(batch), while_marking, afterwards) == (1, "off", "on")


def test_the_embedded_default_drains_the_outbox_while_it_serves(
    scratch_database: str, settings: Settings, alice: ApiUser
) -> None:
    upgrade(scratch_database)
    relaying = settings.model_copy(update={"relay_in_process": True})
    container = build(relaying, scratch_database)
    seen: list[str] = []

    async def remember(event: DomainEvent) -> None:
        seen.append(event.type)

    container.handlers.subscribe(EventType.PROFILE_UPDATED, remember)
    with TestClient(build_app(container)) as serving:
        serving.patch("/v1/me", headers=alice.headers, json={"timezone": "Europe/Paris"})
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)

    assert seen == ["profile.updated"]
    with psycopg.connect(scratch_database) as conn:
        pending = conn.execute("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        assert pending.fetchone() == (0,)
