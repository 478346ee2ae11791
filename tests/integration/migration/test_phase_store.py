"""Phases in Postgres: defaults, audited compare-and-set changes, NOTIFY, and the reader."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.engine import create_engine
from datastore.postgres.schema import upgrade
from domain.common import utc_now
from domain.migration import (
    Entity,
    Phase,
    PhaseChange,
    PhaseChangedMeanwhile,
    Verification,
    VerificationMode,
)
from migration.phases import PhaseReader
from migration.postgres.migration_phases import PostgresPhaseStore, listen_for_phase_changes

pytestmark = pytest.mark.anyio


def empty_the_migration_tables(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE migration_phases, migration_phase_changes, migration_verifications")


@pytest.fixture(autouse=True)
def _phases_start_and_end_empty(database_url: str) -> Iterator[None]:
    """The phase tables are global (a row per entity): each test starts and ends without rows."""
    empty_the_migration_tables(database_url)
    yield
    empty_the_migration_tables(database_url)


@pytest.fixture
def store(engine: AsyncEngine) -> PostgresPhaseStore:
    return PostgresPhaseStore(engine)


def move(
    entity: Entity, to: Phase, *, by: str = "oncall", reason: str | None = None
) -> PhaseChange:
    """A change record; `from_phase` is what the caller believes (the store checks `expected`)."""
    return PhaseChange(entity, Phase.FIRESTORE_ONLY, to, utc_now(), by, reason=reason)


async def eventually(condition: Callable[[], bool], within: float) -> float:
    """Seconds until `condition` held; fails after `within`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"not within {within}s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_every_entity_starts_in_firestore_only(store: PostgresPhaseStore) -> None:
    assert await store.current() == dict.fromkeys(Entity, Phase.FIRESTORE_ONLY)
    assert await store.history(Entity.USERS) == []
    assert await store.last_verification(Entity.USERS) is None


async def test_a_change_sets_the_phase_and_leaves_an_audit_row(
    store: PostgresPhaseStore,
) -> None:
    change = move(Entity.DEVICES, Phase.DUAL_WRITE_READ_FIRESTORE, reason="backfill done")

    await store.change(change, expected=Phase.FIRESTORE_ONLY)

    phases = await store.current()
    assert phases[Entity.DEVICES] is Phase.DUAL_WRITE_READ_FIRESTORE
    assert {phases[e] for e in Entity if e is not Entity.DEVICES} == {Phase.FIRESTORE_ONLY}
    [audited] = await store.history(Entity.DEVICES)
    assert audited.from_phase is Phase.FIRESTORE_ONLY
    assert audited.to_phase is Phase.DUAL_WRITE_READ_FIRESTORE
    assert (audited.by, audited.reason, audited.forced) == ("oncall", "backfill done", False)
    assert abs(audited.at - change.at) < timedelta(milliseconds=1)


async def test_history_lists_the_newest_change_first(store: PostgresPhaseStore) -> None:
    await store.change(
        move(Entity.USAGE, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )
    await store.change(
        move(Entity.USAGE, Phase.FIRESTORE_ONLY), expected=Phase.DUAL_WRITE_READ_FIRESTORE
    )

    history = await store.history(Entity.USAGE)

    assert [(c.from_phase, c.to_phase) for c in history] == [
        (Phase.DUAL_WRITE_READ_FIRESTORE, Phase.FIRESTORE_ONLY),
        (Phase.FIRESTORE_ONLY, Phase.DUAL_WRITE_READ_FIRESTORE),
    ]
    assert len(await store.history(Entity.USAGE, limit=1)) == 1


async def test_a_change_from_a_phase_that_is_no_longer_current_is_refused_and_changes_nothing(
    store: PostgresPhaseStore,
) -> None:
    await store.change(
        move(Entity.USERS, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )

    with pytest.raises(PhaseChangedMeanwhile) as refused:
        await store.change(move(Entity.USERS, Phase.FIRESTORE_ONLY), expected=Phase.FIRESTORE_ONLY)

    assert refused.value.current is Phase.DUAL_WRITE_READ_FIRESTORE
    assert (await store.current())[Entity.USERS] is Phase.DUAL_WRITE_READ_FIRESTORE
    assert len(await store.history(Entity.USERS)) == 1


async def test_of_two_concurrent_changes_from_the_same_phase_exactly_one_wins(
    store: PostgresPhaseStore, database_url: str
) -> None:
    # Neither finds a row: both race to insert it, then for its lock; the second sees the first.
    changes = [
        move(Entity.SCHEDULES, Phase.DUAL_WRITE_READ_FIRESTORE, by="ana"),
        move(Entity.SCHEDULES, Phase.DUAL_WRITE_READ_FIRESTORE, by="ben"),
    ]
    other_engine = create_engine(database_url, pool_size=1)
    other = PostgresPhaseStore(other_engine)
    try:
        results = await asyncio.gather(
            store.change(changes[0], expected=Phase.FIRESTORE_ONLY),
            other.change(changes[1], expected=Phase.FIRESTORE_ONLY),
            return_exceptions=True,
        )
    finally:
        await other_engine.dispose()

    assert sorted(type(r).__name__ for r in results) == ["NoneType", "PhaseChangedMeanwhile"]
    [winner] = await store.history(Entity.SCHEDULES)
    assert winner.by == ("ana" if results[0] is None else "ben")


async def test_a_change_waits_for_a_concurrent_one_holding_the_row_lock(
    store: PostgresPhaseStore, database_url: str
) -> None:
    await store.change(
        move(Entity.BLOCKLISTS, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )
    async with await psycopg.AsyncConnection.connect(database_url) as holder:
        await holder.execute(
            "UPDATE migration_phases SET phase = 'firestore_only' WHERE entity = 'blocklists'"
        )
        waiting = asyncio.create_task(
            store.change(
                move(Entity.BLOCKLISTS, Phase.DUAL_WRITE_READ_POSTGRES),
                expected=Phase.DUAL_WRITE_READ_FIRESTORE,
            )
        )
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the change did not wait for the row lock"
        await holder.commit()

    with pytest.raises(PhaseChangedMeanwhile):
        await waiting
    assert (await store.current())[Entity.BLOCKLISTS] is Phase.FIRESTORE_ONLY


async def test_the_newest_verification_is_the_last_one(store: PostgresPhaseStore) -> None:
    now = utc_now()
    older = Verification(Entity.USERS, now - timedelta(hours=2), True, VerificationMode.FULL)
    newer = Verification(
        Entity.USERS,
        now - timedelta(hours=1),
        False,
        VerificationMode.SAMPLE,
        missing=2,
        different=1,
        started_at=now - timedelta(hours=1, minutes=5),
        sample_size=1000,
        examples={"missing": ("u-1", "u-2"), "different": ("u-3",)},
    )
    for verification in (newer, older):
        await store.record_verification(verification)

    last = await store.last_verification(Entity.USERS)

    assert last is not None
    assert (last.passed, last.mode, last.missing, last.extra, last.different) == (
        False,
        VerificationMode.SAMPLE,
        2,
        0,
        1,
    )
    assert last.sample_size == 1000
    assert dict(last.examples) == {"missing": ("u-1", "u-2"), "different": ("u-3",)}
    assert await store.last_verification(Entity.DEVICES) is None


async def test_the_database_accepts_exactly_the_entities_and_phases_the_domain_names(
    database_url: str,
) -> None:
    insert = "INSERT INTO migration_phases VALUES (%s, %s, now(), 'test')"
    with psycopg.connect(database_url) as conn:
        for entity in Entity:
            for phase in Phase:
                conn.execute(insert, (entity.value, phase.value))
                conn.execute("DELETE FROM migration_phases")
        for wrong in (("accounts", "firestore_only"), ("users", "postgres_first")):
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute(insert, wrong)
        conn.rollback()


async def test_a_committed_change_is_notified_to_listeners(
    store: PostgresPhaseStore, database_url: str
) -> None:
    heard: list[float] = []
    stop = asyncio.Event()
    listening = asyncio.create_task(
        listen_for_phase_changes(database_url, lambda: heard.append(time.monotonic()), stop)
    )
    await eventually(lambda: len(heard) == 1, within=5)  # called once connected

    await store.change(
        move(Entity.USERS, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )

    await eventually(lambda: len(heard) == 2, within=2)
    stop.set()
    await listening


async def test_the_reader_sees_a_change_within_its_refresh_interval(
    store: PostgresPhaseStore,
) -> None:
    reader = PhaseReader(store, refresh_seconds=0.3)
    await reader.start()
    before = reader.snapshot()
    stop = asyncio.Event()
    refreshing = asyncio.create_task(reader.run_until(stop))

    await store.change(
        move(Entity.USERS, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )
    took = await eventually(
        lambda: reader.snapshot()[Entity.USERS] is Phase.DUAL_WRITE_READ_FIRESTORE, within=2
    )

    stop.set()
    await refreshing
    assert took < 0.3 + 0.5  # the interval, plus one query (and a margin for a busy machine)
    assert before[Entity.USERS] is Phase.FIRESTORE_ONLY  # a snapshot taken stays as it was


async def test_a_notified_reader_refreshes_at_once_rather_than_at_its_interval(
    store: PostgresPhaseStore, database_url: str
) -> None:
    reader = PhaseReader(store, refresh_seconds=60)
    await reader.start()
    stop = asyncio.Event()
    loops = [
        asyncio.create_task(reader.run_until(stop)),
        asyncio.create_task(listen_for_phase_changes(database_url, reader.nudge, stop)),
    ]
    await asyncio.sleep(0.5)  # the listener connects

    await store.change(
        move(Entity.USAGE, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )
    await eventually(
        lambda: reader.snapshot()[Entity.USAGE] is Phase.DUAL_WRITE_READ_FIRESTORE, within=2
    )

    stop.set()
    await asyncio.gather(*loops)


async def test_the_reader_keeps_its_last_snapshot_while_the_database_is_unreachable(
    scratch_database: str, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    upgrade(scratch_database)
    engine = create_engine(scratch_database, pool_size=1)
    store = PostgresPhaseStore(engine)
    await store.change(
        move(Entity.USERS, Phase.DUAL_WRITE_READ_FIRESTORE), expected=Phase.FIRESTORE_ONLY
    )
    reader = PhaseReader(store, refresh_seconds=0.1, timeout_seconds=2, failures_before_error=2)
    await reader.start()
    known = reader.snapshot()
    name = make_url(scratch_database).database
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    try:
        with caplog.at_level(logging.WARNING, logger="migration.phases"):
            results = [await reader.refresh() for _ in range(3)]
    finally:
        await engine.dispose()

    assert results == [False, False, False]
    assert reader.snapshot() == known
    assert reader.snapshot()[Entity.USERS] is Phase.DUAL_WRITE_READ_FIRESTORE
    assert reader.consecutive_failures == 3
    levels = [r.levelname for r in caplog.records if r.msg == "migration.phases.refresh_failed"]
    assert levels == ["WARNING", "ERROR", "ERROR"]


async def test_a_reader_that_never_read_the_phases_refuses_to_start() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/focus", pool_size=1)
    reader = PhaseReader(PostgresPhaseStore(engine))
    try:
        with pytest.raises(RuntimeError, match="start"):
            reader.snapshot()
        with pytest.raises(OperationalError):
            await reader.start()
    finally:
        await engine.dispose()
