"""Postgres counts focus per local day by the domain's rule, for any set of sessions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.repositories.focus_sessions import PostgresFocusSessionRepository
from datastore.postgres.repositories.users import PostgresUserRepository
from domain.focus_sessions.model import FocusSession, Outcome
from domain.stats.model import focus_per_day
from tests.support.entities import ended_session

T0 = datetime(2026, 3, 7, 0, 0, 0, 250_000, tzinfo=UTC)
ZONES = ("UTC", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati")


def _sessions(uid: str) -> st.SearchStrategy[list[FocusSession]]:
    row = st.tuples(
        st.integers(0, 4 * 24 * 3600),  # seconds after T0
        st.integers(0, 24 * 3600),
        st.sampled_from(ZONES),
        st.sampled_from([Outcome.COMPLETED, Outcome.COMPLETED, Outcome.ABANDONED]),
        st.uuids(),
    )

    def build(rows: list[tuple[int, int, str, Outcome, UUID]]) -> list[FocusSession]:
        return [
            ended_session(
                uid,
                session_id,
                T0 + timedelta(seconds=start),
                timedelta(seconds=length),
                zone,
                outcome,
                version=n + 1,
            )
            for n, (start, length, zone, outcome, session_id) in enumerate(rows)
        ]

    return st.lists(row, max_size=10, unique_by=lambda r: r[4]).map(build)


async def _in_postgres(
    engine: AsyncEngine, uid: str, sessions: list[FocusSession], first: date, last: date, goal: int
) -> tuple[list[object], list[date]]:
    async with engine.connect() as conn:
        await PostgresUserRepository(conn).ensure(uid)
        repo = PostgresFocusSessionRepository(conn)
        for session in sessions:
            await repo.add(session)
        totals = await repo.daily_totals(uid, first, last)
        met = await repo.days_meeting_goal(uid, goal)
        await conn.rollback()
    return list(totals), met


UID = f"sql-rule-{uuid.uuid4().hex[:8]}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sessions=_sessions(UID),
    first_offset=st.integers(-1, 4),
    days=st.integers(0, 3),
    goal=st.integers(1, 30 * 3600),
)
def test_postgres_totals_and_goal_days_follow_the_domain_rule(
    runner_and_engine: tuple[asyncio.Runner, AsyncEngine],
    sessions: list[FocusSession],
    first_offset: int,
    days: int,
    goal: int,
) -> None:
    runner, engine = runner_and_engine
    first = T0.date() + timedelta(days=first_offset)
    last = first + timedelta(days=days)

    totals, met = runner.run(_in_postgres(engine, UID, sessions, first, last, goal))

    expected = focus_per_day(sessions)
    assert totals == [t for t in expected if first <= t.day <= last]
    assert met == [t.day for t in expected if t.focus_seconds >= goal]
