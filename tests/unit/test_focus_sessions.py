"""Focus sessions in the domain: starting (online and offline), ending, and their rules."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.blocklists.model import Blocklist
from domain.common import PageRequest
from domain.errors import Conflict, DomainError, NotFound, PreconditionFailed, ValidationFailed
from domain.focus_sessions import use_cases
from domain.focus_sessions.model import (
    DayRange,
    FocusMode,
    FocusSession,
    Outcome,
    SessionEnd,
    SessionStart,
    local_date_of,
)
from tests.support.clock import TestClock
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

pytestmark = pytest.mark.anyio

ALICE = "alice"
BOB = "bob"
NOON = datetime(2026, 5, 12, 12, 0, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> TestClock:
    clock = TestClock()
    clock.set(NOON)
    return clock


async def set_timezone(uow: FakeUnitOfWork, uid: str, timezone: str) -> None:
    await uow.users.ensure(uid)
    uow.users.rows[uid] = replace(uow.users.rows[uid], timezone=timezone)
    await uow.commit()


async def start(
    uow: FakeUnitOfWork, clock: TestClock, uid: str = ALICE, **fields: Any
) -> tuple[FocusSession, bool]:
    values: dict[str, Any] = {"planned_duration_minutes": 25, **fields}
    async with uow:
        result = await use_cases.start_focus_session(uow, uid, SessionStart(**values), clock=clock)
        await uow.commit()
    return result


async def end(
    uow: FakeUnitOfWork,
    clock: TestClock,
    session_id: UUID,
    outcome: Outcome,
    ended_at: datetime,
    *,
    uid: str = ALICE,
    expected_version: int | None = None,
) -> FocusSession:
    async with uow:
        ended = await use_cases.end_focus_session(
            uow,
            uid,
            session_id,
            SessionEnd(outcome, ended_at),
            expected_version=expected_version,
            clock=clock,
        )
        await uow.commit()
    return ended


async def refused(kind: type[DomainError], call: Awaitable[object]) -> DomainError:
    with pytest.raises(kind) as caught:
        await call
    return caught.value


async def test_a_started_session_runs_on_the_users_local_day(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    await set_timezone(uow, ALICE, "Asia/Tokyo")
    clock.set(datetime(2026, 5, 12, 20, 30, tzinfo=UTC))  # 05:30 on the 13th in Tokyo

    session, created = await start(uow, clock, mode=FocusMode.HARD)

    assert created
    assert session.is_running
    assert session.started_at == clock()
    assert session.timezone == "Asia/Tokyo"
    assert session.local_date == date(2026, 5, 13)
    assert session.planned_duration_seconds == 25 * 60
    assert session.version == uow.counters[ALICE]


async def test_an_offline_start_keeps_the_client_id_and_instant(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    client_id = uuid4()
    three_days_ago = NOON - timedelta(days=3)

    session, created = await start(uow, clock, id=client_id, started_at=three_days_ago)

    assert created
    assert (session.id, session.started_at) == (client_id, three_days_ago)
    assert session.local_date == date(2026, 5, 9)


async def test_replaying_a_start_returns_the_session_without_a_new_version(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    client_id = uuid4()
    first, _ = await start(uow, clock, id=client_id, started_at=NOON - timedelta(minutes=1))
    versions = dict(uow.counters)
    clock.advance(timedelta(minutes=3))

    again, created = await start(uow, clock, id=client_id, started_at=NOON - timedelta(minutes=1))
    without_instant, _ = await start(uow, clock, id=client_id)

    assert not created
    assert again == first == without_instant
    assert uow.counters == versions


async def test_a_start_retried_after_its_instant_grew_old_still_finds_its_session(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    client_id = uuid4()
    first, _ = await start(uow, clock, id=client_id, started_at=NOON - timedelta(days=6))
    clock.advance(timedelta(days=2))

    again, created = await start(uow, clock, id=client_id, started_at=NOON - timedelta(days=6))

    assert (again, created) == (first, False)


async def test_reusing_a_session_id_for_another_start_is_a_conflict(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    client_id = uuid4()
    first, _ = await start(uow, clock, id=client_id)

    problem = await refused(Conflict, start(uow, clock, id=client_id, planned_duration_minutes=50))

    assert problem.code == "focus_session_id_conflict"
    assert uow.focus_sessions.rows == {(ALICE, client_id): first}


async def test_another_users_session_id_is_an_unused_id_to_the_caller(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    bobs, _ = await start(uow, clock, uid=BOB)

    alices, created = await start(uow, clock, uid=ALICE, id=bobs.id)

    assert created
    assert uow.focus_sessions.rows == {(BOB, bobs.id): bobs, (ALICE, bobs.id): alices}


async def test_a_second_running_session_is_refused(uow: FakeUnitOfWork, clock: TestClock) -> None:
    first, _ = await start(uow, clock)

    problem = await refused(Conflict, start(uow, clock, planned_duration_minutes=50))

    assert problem.code == "focus_session_already_running"
    assert list(uow.focus_sessions.rows) == [(ALICE, first.id)]


async def test_a_new_session_may_start_once_the_last_one_ended(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    first, _ = await start(uow, clock, planned_duration_minutes=1)
    await end(uow, clock, first.id, Outcome.ABANDONED, NOON)

    second, created = await start(uow, clock)

    assert created
    assert second.id != first.id


async def test_a_session_names_only_a_blocklist_of_its_user(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    bobs = Blocklist(uuid4(), BOB, "Social", (), 1, NOON, NOON)
    alices = replace(bobs, id=uuid4(), user_id=ALICE)
    await uow.blocklists.save(bobs)
    await uow.blocklists.save(alices)
    await uow.commit()

    problem = await refused(ValidationFailed, start(uow, clock, blocklist_id=bobs.id))
    session, _ = await start(uow, clock, blocklist_id=alices.id)

    assert isinstance(problem, ValidationFailed)
    assert [(p.field, p.code) for p in problem.problems] == [("blocklist_id", "unknown_blocklist")]
    assert session.blocklist_id == alices.id


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"planned_duration_minutes": 0}, "planned_duration_minutes", "out_of_range"),
        ({"planned_duration_minutes": 721}, "planned_duration_minutes", "out_of_range"),
        ({"started_at": NOON + timedelta(seconds=301)}, "started_at", "in_the_future"),
        ({"started_at": NOON - timedelta(days=7, seconds=1)}, "started_at", "too_old"),
    ],
)
async def test_a_start_with_values_out_of_bounds_is_refused(
    uow: FakeUnitOfWork, clock: TestClock, fields: dict[str, object], field: str, code: str
) -> None:
    problem = await refused(ValidationFailed, start(uow, clock, **fields))

    assert isinstance(problem, ValidationFailed)
    assert [(p.field, p.code) for p in problem.problems] == [(field, code)]
    assert uow.focus_sessions.rows == {}


async def test_a_start_a_little_ahead_of_the_server_clock_is_accepted(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock, started_at=NOON + timedelta(seconds=300))

    assert session.started_at == NOON + timedelta(seconds=300)


async def test_completing_at_the_planned_end_ends_the_session_with_a_new_version(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock)
    clock.advance(timedelta(minutes=26))

    ended = await end(uow, clock, session.id, Outcome.COMPLETED, NOON + timedelta(minutes=25))

    assert ended.outcome is Outcome.COMPLETED
    assert ended.ended_at == NOON + timedelta(minutes=25)
    assert ended.version > session.version
    assert ended.updated_at == clock()
    assert uow.focus_sessions.rows[ALICE, session.id] == ended


async def test_the_same_end_sent_twice_returns_the_ended_session_unchanged(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock)
    first = await end(uow, clock, session.id, Outcome.ABANDONED, NOON + timedelta(minutes=5))
    versions = dict(uow.counters)
    clock.advance(timedelta(minutes=10))

    again = await end(uow, clock, session.id, Outcome.ABANDONED, NOON + timedelta(minutes=5))

    assert again == first
    assert uow.counters == versions


async def test_ending_an_ended_session_differently_is_a_conflict(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock)
    first = await end(uow, clock, session.id, Outcome.ABANDONED, NOON + timedelta(minutes=5))

    problem = await refused(
        Conflict, end(uow, clock, session.id, Outcome.ABANDONED, NOON + timedelta(minutes=6))
    )

    assert problem.code == "focus_session_already_ended"
    assert uow.focus_sessions.rows[ALICE, session.id] == first


async def test_ending_a_hard_mode_session_early_is_refused(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock, mode=FocusMode.HARD)
    clock.advance(timedelta(minutes=10))

    problem = await refused(Conflict, end(uow, clock, session.id, Outcome.ABANDONED, clock()))

    assert problem.code == "hard_mode_locked"
    assert uow.focus_sessions.rows[ALICE, session.id] == session


async def test_a_hard_mode_session_may_be_abandoned_after_its_planned_end(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock, mode=FocusMode.HARD)
    clock.advance(timedelta(minutes=40))

    ended = await end(uow, clock, session.id, Outcome.ABANDONED, NOON + timedelta(minutes=25))

    assert ended.outcome is Outcome.ABANDONED


async def test_a_normal_session_may_be_abandoned_at_any_time(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock)

    ended = await end(uow, clock, session.id, Outcome.ABANDONED, NOON + timedelta(seconds=1))

    assert ended.outcome is Outcome.ABANDONED


async def test_completing_well_before_the_planned_end_is_refused(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock, mode=FocusMode.HARD)
    clock.advance(timedelta(minutes=25))
    early = NOON + timedelta(minutes=25) - timedelta(seconds=301)

    problem = await refused(ValidationFailed, end(uow, clock, session.id, Outcome.COMPLETED, early))

    assert isinstance(problem, ValidationFailed)
    assert [(p.field, p.code) for p in problem.problems] == [("outcome", "not_completed")]
    assert uow.focus_sessions.rows[ALICE, session.id] == session


async def test_completing_within_the_clock_skew_of_the_planned_end_is_accepted(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock, mode=FocusMode.HARD)
    clock.advance(timedelta(minutes=25))
    slow_client = NOON + timedelta(minutes=25) - timedelta(seconds=300)

    ended = await end(uow, clock, session.id, Outcome.COMPLETED, slow_client)

    assert ended.outcome is Outcome.COMPLETED


@pytest.mark.parametrize(
    ("ended_at", "code"),
    [
        (NOON - timedelta(seconds=1), "before_start"),
        (NOON + timedelta(hours=24, seconds=1), "too_long"),
        (NOON + timedelta(minutes=30, seconds=301), "in_the_future"),
    ],
)
async def test_an_end_at_an_impossible_instant_is_refused(
    uow: FakeUnitOfWork, clock: TestClock, ended_at: datetime, code: str
) -> None:
    session, _ = await start(uow, clock)
    if code == "too_long":
        clock.set(NOON + timedelta(hours=25))
    else:
        clock.set(NOON + timedelta(minutes=30))

    problem = await refused(
        ValidationFailed, end(uow, clock, session.id, Outcome.COMPLETED, ended_at)
    )

    assert isinstance(problem, ValidationFailed)
    assert [(p.field, p.code) for p in problem.problems] == [("ended_at", code)]
    assert uow.focus_sessions.rows[ALICE, session.id] == session


async def test_an_end_naming_a_stale_version_is_refused(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    session, _ = await start(uow, clock, planned_duration_minutes=1)

    problem = await refused(
        PreconditionFailed,
        end(uow, clock, session.id, Outcome.ABANDONED, NOON, expected_version=session.version - 1),
    )

    assert isinstance(problem, PreconditionFailed)
    assert problem.current_version == session.version
    assert uow.focus_sessions.rows[ALICE, session.id] == session


async def test_another_users_session_cannot_be_read_or_ended(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    bobs, _ = await start(uow, clock, uid=BOB)

    async with uow:
        await refused(NotFound, use_cases.get_focus_session(uow, ALICE, bobs.id))
    await refused(NotFound, end(uow, clock, bobs.id, Outcome.ABANDONED, NOON, uid=ALICE))

    assert uow.focus_sessions.rows == {(BOB, bobs.id): bobs}


async def test_the_list_pages_newest_first_within_local_days(
    uow: FakeUnitOfWork, clock: TestClock
) -> None:
    made = []
    for days_ago in (0, 1, 1, 2, 3):
        began = NOON - timedelta(days=days_ago, minutes=len(made))
        session, _ = await start(uow, clock, started_at=began, planned_duration_minutes=1)
        await end(uow, clock, session.id, Outcome.ABANDONED, began)
        made.append(session)
    window = DayRange(date(2026, 5, 10), date(2026, 5, 11))

    async with uow:
        first = await use_cases.list_focus_sessions(uow, ALICE, window, PageRequest(limit=2))
        second = await use_cases.list_focus_sessions(
            uow, ALICE, window, PageRequest(limit=2, after=first.next_after)
        )

    assert [s.id for s in first.items] == [made[1].id, made[2].id]
    assert [s.id for s in second.items] == [made[3].id]
    assert second.next_after is None


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        DayRange(date(2026, 5, 2), date(2026, 5, 1))

    assert caught.value.problems[0].field == "to"


@pytest.mark.parametrize(
    ("instant", "timezone", "day"),
    [
        # New York springs forward at 02:00 on 8 March 2026: 23:30 that evening is EDT.
        (datetime(2026, 3, 9, 3, 30, tzinfo=UTC), "America/New_York", date(2026, 3, 8)),
        (datetime(2026, 3, 9, 4, 30, tzinfo=UTC), "America/New_York", date(2026, 3, 9)),
        # ...and falls back on 1 November: 23:30 that evening is EST, UTC-5.
        (datetime(2026, 11, 2, 4, 30, tzinfo=UTC), "America/New_York", date(2026, 11, 1)),
        (datetime(2026, 11, 2, 5, 0, tzinfo=UTC), "America/New_York", date(2026, 11, 2)),
        # Berlin: 29 March and 25 October 2026.
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "Europe/Berlin", date(2026, 3, 29)),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), "Europe/Berlin", date(2026, 3, 30)),
        (datetime(2026, 10, 25, 22, 59, tzinfo=UTC), "Europe/Berlin", date(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), "Europe/Berlin", date(2026, 10, 26)),
    ],
)
def test_the_local_day_follows_the_offset_in_force_at_the_instant(
    instant: datetime, timezone: str, day: date
) -> None:
    assert local_date_of(instant, timezone) == day
