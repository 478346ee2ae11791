"""The hourly purge removes what outlived its retention, and nothing younger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.housekeeping import PostgresHousekeeping
from datastore.postgres.task_queue import PostgresTaskQueue
from jobs.housekeeping import PURGE_TASK, Maintenance
from tests.support.clock import TestClock

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def seed(database_url: str, uid: str) -> None:
    """An old and a young row of each kind the purge looks at."""
    old, young = NOW - timedelta(days=9), NOW - timedelta(hours=1)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (uid, change_seq, created_at, updated_at) VALUES (%s, 1, %s, %s)",
            (uid, old, old),
        )
        for at in (old, young):
            conn.execute(
                "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
                " record_version, payload, occurred_at, published_at)"
                " VALUES (%s, %s, 'schedule.updated', 1, 's', 1, '{}', %s, %s)",
                (uuid.uuid4(), uid, at, at),
            )
            conn.execute(
                "INSERT INTO processed_events (subscription, event_id, user_id, processed_at)"
                " VALUES ('notifications', %s, %s, %s)",
                (uuid.uuid4(), uid, at),
            )
        # an old event never published stays: the relay still owes it
        conn.execute(
            "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id,"
            " record_version, payload, occurred_at)"
            " VALUES (%s, %s, 'schedule.updated', 1, 's', 1, '{}', %s)",
            (uuid.uuid4(), uid, old),
        )


def counts(database_url: str, uid: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        events = conn.execute("SELECT count(*) FROM outbox_events WHERE user_id = %s", (uid,))
        processed = conn.execute("SELECT count(*) FROM processed_events WHERE user_id = %s", (uid,))
        return {
            "outbox_events": int(events.fetchone()[0]),  # type: ignore[index]
            "processed_events": int(processed.fetchone()[0]),  # type: ignore[index]
        }


async def test_the_purge_keeps_young_rows_and_unpublished_events(
    engine: AsyncEngine, database_url: str
) -> None:
    uid = f"u-{uuid.uuid4().hex[:20]}"
    seed(database_url, uid)
    clock = TestClock()
    clock.set(NOW)
    queue = PostgresTaskQueue(engine, clock=clock)
    maintenance = Maintenance(PostgresHousekeeping(engine, queue), queue, clock=clock)

    await maintenance.purge({})

    assert counts(database_url, uid) == {"outbox_events": 2, "processed_events": 1}


async def test_the_purge_schedules_its_next_run_once_per_hour(
    engine: AsyncEngine, database_url: str
) -> None:
    clock = TestClock()
    clock.set(NOW + timedelta(days=3650 + uuid.uuid4().int % 1000))  # an hour no test shares
    queue = PostgresTaskQueue(engine, clock=clock)
    maintenance = Maintenance(PostgresHousekeeping(engine, queue), queue, clock=clock)

    await maintenance.schedule_next()
    await maintenance.schedule_next()

    next_hour = clock().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM scheduled_tasks WHERE kind = %s AND run_at = %s",
            (PURGE_TASK, next_hour),
        ).fetchone()
    assert rows == (1,)
