"""The relay serves events by turn: one user's burst does not hold back another user's events,
a burst alone still drains at once, and each user's events keep their order (real Postgres)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.engine import create_engine
from datastore.postgres.repositories.outbox import FAIR_SHARE
from datastore.postgres.schema import upgrade
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.relay import OutboxRelay
from tests.integration.test_query_plans import INDEX_SCANS, Statement, explain, nodes


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[DomainEvent]] = []

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        self.batches.append(list(events))

    @property
    def published(self) -> list[tuple[str, int]]:
        return [(e.user_id, e.record_version) for batch in self.batches for e in batch]


async def write(engine: AsyncEngine, uid: str, count: int) -> list[tuple[str, int]]:
    """`count` events of `uid` in one transaction, as a sync that replays changes writes them."""
    written = []
    async with PostgresUnitOfWork(engine) as uow:
        for _ in range(count):
            version = await uow.next_version(uid)
            await uow.outbox.add(
                DomainEvent(EventType.SYNC_REQUESTED, uid, uid, version, utc_now())
            )
            written.append((uid, version))
        await uow.commit()
    return written


def relay(engine: AsyncEngine, recorder: Recorder, batch_size: int) -> OutboxRelay:
    return OutboxRelay(
        lambda: PostgresUnitOfWork(engine), recorder, clock=utc_now, batch_size=batch_size
    )


async def drain_leftovers(engine: AsyncEngine) -> None:
    """Other tests' events on the shared database go first, out of these tests' way."""
    await relay(engine, Recorder(), 500).drain()


@pytest.fixture
async def outbox(engine: AsyncEngine) -> AsyncEngine:
    """The test's engine, on an outbox with nothing pending."""
    await drain_leftovers(engine)
    return engine


def new_uid(name: str) -> str:
    return f"turns-{name}-{uuid.uuid4().hex[:8]}"


@pytest.mark.anyio
async def test_a_users_event_goes_before_the_rest_of_a_burst_written_just_before_it(
    outbox: AsyncEngine,
) -> None:
    loud, quiet = new_uid("loud"), new_uid("quiet")
    started = time.monotonic()
    burst = await write(outbox, loud, 300)
    [mine] = await write(outbox, quiet, 1)
    after = time.monotonic() - started
    recorder = Recorder()

    await relay(outbox, recorder, 50).run_once()

    # In id order it would be 301st, six batches later. Its turn is the moment it was written;
    # the burst's events are placed a share apart from the moment they were. Ahead of it go
    # only those whose turn came first: one per share of the time between the two writes.
    first_batch = recorder.published
    assert mine in first_batch
    ahead = first_batch.index(mine)
    assert first_batch[:ahead] == burst[:ahead]
    assert 1 <= ahead <= 1 + after / FAIR_SHARE.total_seconds()


@pytest.mark.anyio
async def test_a_burst_alone_drains_at_once_in_the_order_it_was_written(
    outbox: AsyncEngine,
) -> None:
    loud = new_uid("loud")
    burst = await write(outbox, loud, 300)  # turns spread over the next 30 s
    recorder = Recorder()

    started = time.monotonic()
    published = await relay(outbox, recorder, 50).drain()

    assert published == 300
    assert recorder.published == burst
    assert time.monotonic() - started < 10  # nothing waits for its turn to come due


@pytest.mark.anyio
async def test_once_its_turns_have_come_a_bursts_events_go_before_newer_ones(
    outbox: AsyncEngine,
) -> None:
    loud, late = new_uid("loud"), new_uid("late")
    burst = await write(outbox, loud, 3)
    await asyncio.sleep(3 * FAIR_SHARE.total_seconds() + 0.1)  # every turn of the burst passed
    [newer] = await write(outbox, late, 1)
    recorder = Recorder()

    await relay(outbox, recorder, 50).drain()

    assert recorder.published == [*burst, newer]  # waited its turns, never pushed back further


@pytest.mark.anyio
async def test_events_written_one_at_a_time_go_out_as_they_were_written(
    outbox: AsyncEngine,
) -> None:
    alice, bob = new_uid("alice"), new_uid("bob")
    written = []
    for uid in (alice, bob, alice, bob, bob, alice):
        written += await write(outbox, uid, 1)
        await asyncio.sleep(
            FAIR_SHARE.total_seconds() + 0.01
        )  # each user writes at a person's pace
    recorder = Recorder()

    await relay(outbox, recorder, 2).drain()

    assert recorder.published == written


# ---- every interleaving keeps each user's order and publishes each event once ------------


WRITES = st.lists(
    st.tuples(st.integers(0, 3), st.integers(1, 25), st.booleans()), min_size=1, max_size=8
)
"""Each: which of four users writes, how many events in one transaction, and whether the relay
publishes one batch before the next write."""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writes=WRITES, batch_size=st.integers(1, 40))
def test_each_users_events_are_published_once_and_in_the_order_written(
    runner_and_engine: tuple[asyncio.Runner, AsyncEngine],
    writes: list[tuple[int, int, bool]],
    batch_size: int,
) -> None:
    runner, engine = runner_and_engine
    users = [new_uid(f"u{n}") for n in range(4)]

    async def scenario() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        await drain_leftovers(engine)
        recorder = Recorder()
        the_relay = relay(engine, recorder, batch_size)
        written = []
        for who, count, publish_between in writes:
            written += await write(engine, users[who], count)
            if publish_between:
                await the_relay.run_once()
        await the_relay.drain()
        return written, recorder.published

    written, published = runner.run(scenario())

    assert sorted(published) == sorted(written)  # each once
    for uid in users:
        assert [e for e in published if e[0] == uid] == [e for e in written if e[0] == uid]


# ---- the queue stays on its index, whatever the statistics say --------------------------

PUBLISHED, WAITING, USERS = 200_000, 3_000, 1_000


@pytest.fixture(scope="module")
def backlog_after_analyze(database_url: str) -> Iterator[str]:
    """A migrated database of its own: 200,000 published events, analysed while nothing waited
    (as autovacuum finds the outbox nearly always), then 3,000 waiting, not analysed."""
    name = f"focus_turns_{uuid.uuid4().hex[:10]}"
    admin = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    events = (
        "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
        " record_version, payload, occurred_at, fair_at, published_at)"
        " SELECT gen_random_uuid(), 'u' || (1 + n %% %(users)s), 'sync.requested', 1, 's', n,"
        " '{}', now(), now() + (n / %(users)s) * interval '100 ms', %(published)s"
        " FROM generate_series(1, %(n)s) AS n"
    )
    try:
        upgrade(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (uid, change_seq, version, created_at, updated_at)"
                " SELECT 'u' || n, 1000, 0, now(), now() FROM generate_series(1, %s) AS n",
                (USERS,),
            )
            conn.execute(events, {"users": USERS, "n": PUBLISHED, "published": utc_now()})
            conn.execute("VACUUM ANALYZE outbox_events")
            conn.execute(events, {"users": USERS, "n": WAITING, "published": None})
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def captured(url: str, action: str) -> list[Statement]:
    """The statements on outbox_events that claiming a batch, measuring the lag or adding an
    event sends."""

    async def run() -> list[Statement]:
        engine = create_engine(url, pool_size=1)
        seen: list[Statement] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def capture(*args: Any) -> None:
            if "outbox_events" in args[2]:
                seen.append(Statement(args[2], dict(args[3] or {})))

        try:
            async with PostgresUnitOfWork(engine) as uow:
                if action == "claim":
                    await uow.outbox.claim_pending(100)
                elif action == "lag":
                    await uow.outbox.first_waiting_at()
                else:
                    version = await uow.next_version("u7")
                    await uow.outbox.add(
                        DomainEvent(EventType.SYNC_REQUESTED, "u7", "u7", version, utc_now())
                    )
                # rolled back on leaving: the table stays as seeded
        finally:
            await engine.dispose()
        return seen

    return asyncio.run(run())


def plan_nodes(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(n["Node Type"], n.get("Index Name")) for n in nodes(plan["Plan"])]


@pytest.mark.parametrize("action", ["claim", "lag"])
@pytest.mark.parametrize("generic", [False, True], ids=["custom plan", "generic plan"])
def test_the_relay_reads_its_queue_in_order_off_its_index_without_sorting_the_backlog(
    backlog_after_analyze: str, action: str, generic: bool
) -> None:
    [statement] = captured(backlog_after_analyze, action)

    plan = explain(backlog_after_analyze, statement, generic=generic)

    shape = plan_nodes(plan)
    used = {index for node, index in shape if node in INDEX_SCANS}
    assert used == {"ix_outbox_events_turn"}, shape
    assert "Sort" not in [node for node, _ in shape], shape
    assert plan["Plan"]["Actual Rows"] == (100 if action == "claim" else 1)


def test_adding_an_event_is_one_statement_that_reads_no_table_whole(
    backlog_after_analyze: str,
) -> None:
    [insert] = captured(backlog_after_analyze, "add")
    params = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in insert.params.items()}

    with psycopg.connect(backlog_after_analyze) as conn:  # rolled back: nothing is added
        [(plans,)] = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + insert.sql, params)
        conn.rollback()

    shape = plan_nodes(plans[0])
    assert ("Index Scan", "users_pkey") in shape, shape
    assert "Seq Scan" not in [node for node, _ in shape], shape
