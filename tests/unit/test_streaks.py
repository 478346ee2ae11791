"""Streaks and focus per local day: calendar days, whatever DST or a move does to the clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ValidationFailed
from domain.focus_sessions import use_cases as sessions
from domain.focus_sessions.model import Outcome, SessionEnd, SessionStart
from domain.stats import use_cases
from domain.stats.model import (
    DayTotal,
    Stats,
    current_streak,
    daily_series,
    goal_met,
    longest_streak,
    validate_range,
)
from tests.support.clock import TestClock
from tests.unit.fakes.unit_of_work import FakeUnitOfWork

UID = "streaker"


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]


MAY_10 = date(2026, 5, 10)


# -- pure streaks ---------------------------------------------------------------------------


def test_no_days_make_no_streak() -> None:
    assert current_streak([], MAY_10) == 0
    assert longest_streak([]) == 0


def test_a_run_reaching_today_is_current() -> None:
    assert current_streak(days(date(2026, 5, 6), 5), MAY_10) == 5


def test_a_run_ending_yesterday_is_still_current_while_today_is_not_met() -> None:
    assert current_streak(days(date(2026, 5, 6), 4), MAY_10) == 4


def test_a_run_ending_two_days_ago_is_over() -> None:
    met = days(date(2026, 5, 1), 7)  # 1-7 May

    assert current_streak(met, MAY_10) == 0
    assert longest_streak(met) == 7


def test_a_gap_splits_runs_and_the_longest_is_kept() -> None:
    met = [*days(date(2026, 4, 1), 10), *days(date(2026, 5, 7), 4)]  # gap in between

    assert current_streak(met, MAY_10) == 4
    assert longest_streak(met) == 10


def test_a_single_missed_day_breaks_the_run() -> None:
    met = [date(2026, 5, 7), date(2026, 5, 9), date(2026, 5, 10)]

    assert current_streak(met, MAY_10) == 2
    assert longest_streak(met) == 2


def test_a_run_across_new_year_and_a_leap_day_is_unbroken() -> None:
    assert longest_streak(days(date(2027, 12, 30), 4)) == 4
    assert longest_streak(days(date(2028, 2, 27), 4)) == 4  # 27, 28, 29 Feb, 1 Mar


def test_a_recorded_day_ahead_of_today_belongs_to_the_current_run() -> None:
    # Recorded in Tokyo on the 11th; in Los Angeles it is still the 10th.
    assert current_streak(days(date(2026, 5, 8), 4), MAY_10) == 4


# -- days and goals ---------------------------------------------------------------------------


def test_the_goal_counts_seconds_not_rounded_minutes() -> None:
    assert goal_met(60 * 60, 60)
    assert not goal_met(60 * 60 - 1, 60)


def test_the_series_has_every_day_of_the_range_with_zeros_between() -> None:
    totals = [DayTotal(date(2026, 5, 2), 61 * 60 + 59, 2), DayTotal(date(2026, 5, 4), 59 * 60, 1)]

    series = daily_series(totals, date(2026, 5, 1), date(2026, 5, 4), 60)

    assert [(d.day.day, d.focus_minutes, d.sessions_completed, d.goal_met) for d in series] == [
        (1, 0, 0, False),
        (2, 61, 2, True),
        (3, 0, 0, False),
        (4, 59, 1, False),
    ]


def test_a_range_of_366_days_is_allowed_and_one_more_is_not() -> None:
    validate_range(date(2028, 1, 1), date(2028, 12, 31))

    with pytest.raises(ValidationFailed) as caught:
        validate_range(date(2027, 12, 31), date(2028, 12, 31))

    assert (caught.value.problems[0].field, caught.value.problems[0].code) == (
        "to",
        "range_too_long",
    )


def test_a_range_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_range(date(2026, 5, 2), date(2026, 5, 1))

    assert caught.value.problems[0].code == "before_from"


# -- through the use cases: sessions placed at instants, days taken in the user's timezone ----


class Diary:
    """Records completed and abandoned sessions for one user, as the app would."""

    def __init__(self, timezone: str, goal_minutes: int = 60) -> None:
        self.uow = FakeUnitOfWork()
        self.clock = TestClock()
        self.timezone = timezone
        self.goal = goal_minutes

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        """The instant of a wall-clock time in the user's timezone of the moment."""
        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(self.timezone))
        return wall.astimezone(UTC)

    async def move_to(self, timezone: str) -> None:
        self.timezone = timezone
        await self.uow.users.ensure(UID)
        user = self.uow.users.rows[UID]
        self.uow.users.rows[UID] = replace(user, timezone=timezone, daily_goal_minutes=self.goal)
        await self.uow.commit()

    async def focus(
        self, start: datetime, minutes: int, outcome: Outcome = Outcome.COMPLETED
    ) -> None:
        if UID not in self.uow.users.rows:
            await self.move_to(self.timezone)
        self.clock.set(start)
        async with self.uow:
            session, _ = await sessions.start_focus_session(
                self.uow, UID, SessionStart(planned_duration_minutes=minutes), clock=self.clock
            )
            await self.uow.commit()
        end = start + timedelta(minutes=minutes)
        self.clock.set(end)
        async with self.uow:
            await sessions.end_focus_session(
                self.uow,
                UID,
                session.id,
                SessionEnd(outcome, end),
                expected_version=None,
                clock=self.clock,
            )
            await self.uow.commit()

    async def stats(self, now: datetime, first: date, last: date) -> Stats:
        self.clock.set(now)
        async with self.uow:
            return await use_cases.get_stats(self.uow, UID, first, last, clock=self.clock)


pytestmark = pytest.mark.anyio


async def test_no_sessions_make_empty_days_and_no_streak() -> None:
    diary = Diary("Europe/Berlin")
    await diary.move_to("Europe/Berlin")

    stats = await diary.stats(diary.local(date(2026, 5, 10), 9, 0), date(2026, 5, 8), MAY_10)

    assert [d.focus_minutes for d in stats.days] == [0, 0, 0]
    assert (stats.current_streak_days, stats.longest_streak_days) == (0, 0)
    assert stats.today == MAY_10


async def test_abandoned_sessions_and_days_short_of_the_goal_do_not_count() -> None:
    diary = Diary("Europe/Berlin", goal_minutes=60)
    await diary.focus(diary.local(date(2026, 5, 8), 9, 0), 90, Outcome.ABANDONED)
    await diary.focus(diary.local(date(2026, 5, 9), 9, 0), 30)
    await diary.focus(diary.local(date(2026, 5, 9), 18, 0), 29)
    await diary.focus(diary.local(date(2026, 5, 10), 9, 0), 60)

    stats = await diary.stats(diary.local(date(2026, 5, 10), 22, 0), date(2026, 5, 8), MAY_10)

    assert [(d.focus_minutes, d.sessions_completed, d.goal_met) for d in stats.days] == [
        (0, 0, False),
        (59, 2, False),
        (60, 1, True),
    ]
    assert (stats.current_streak_days, stats.longest_streak_days) == (1, 1)


@pytest.mark.parametrize(
    ("timezone", "dst_day"),
    [
        ("America/New_York", date(2026, 3, 8)),  # 23 hours
        ("America/New_York", date(2026, 11, 1)),  # 25 hours
        ("Europe/Berlin", date(2026, 3, 29)),
        ("Europe/Berlin", date(2026, 10, 25)),
    ],
)
async def test_a_streak_runs_through_a_dst_change_on_the_days_around_midnight(
    timezone: str, dst_day: date
) -> None:
    diary = Diary(timezone)
    for day in days(dst_day - timedelta(days=1), 3):
        # Just after and just before midnight: an offset off by an hour moves one of them to
        # a neighbouring day.
        await diary.focus(diary.local(day, 0, 15), 30)
        await diary.focus(diary.local(day, 23, 15), 30)
    last = dst_day + timedelta(days=1)

    stats = await diary.stats(
        diary.local(last, 23, 50), dst_day - timedelta(days=2), last + timedelta(days=1)
    )

    assert [(d.focus_minutes, d.sessions_completed) for d in stats.days] == [
        (0, 0),
        (60, 2),
        (60, 2),
        (60, 2),
        (0, 0),
    ]
    assert stats.today == last
    assert (stats.current_streak_days, stats.longest_streak_days) == (3, 3)


async def test_moving_west_keeps_the_days_recorded_before_and_the_streak_current() -> None:
    diary = Diary("Asia/Tokyo")
    await diary.focus(diary.local(date(2026, 5, 8), 9, 0), 60)
    await diary.focus(diary.local(date(2026, 5, 9), 9, 0), 60)
    await diary.focus(diary.local(date(2026, 5, 10), 9, 0), 60)  # 9 May, 17:00 in Los Angeles
    await diary.move_to("America/Los_Angeles")

    evening_in_la = diary.local(date(2026, 5, 9), 20, 0)
    stats = await diary.stats(evening_in_la, date(2026, 5, 8), MAY_10)

    assert stats.today == date(2026, 5, 9)
    assert [d.goal_met for d in stats.days] == [True, True, True]
    assert stats.current_streak_days == 3

    await diary.focus(diary.local(date(2026, 5, 11), 8, 0), 60)
    stats = await diary.stats(
        diary.local(date(2026, 5, 11), 9, 0), date(2026, 5, 8), date(2026, 5, 11)
    )
    assert stats.current_streak_days == 4


async def test_moving_east_continues_the_streak_on_the_next_local_day() -> None:
    diary = Diary("America/Los_Angeles")
    await diary.focus(diary.local(date(2026, 5, 8), 9, 0), 60)
    await diary.focus(diary.local(date(2026, 5, 9), 9, 0), 60)
    await diary.move_to("Asia/Tokyo")  # at 18:00 in Los Angeles: 10:00 on the 10th in Tokyo

    stats = await diary.stats(diary.local(date(2026, 5, 10), 10, 0), date(2026, 5, 8), MAY_10)

    assert stats.today == MAY_10
    assert [d.goal_met for d in stats.days] == [True, True, False]
    assert stats.current_streak_days == 2

    await diary.focus(diary.local(MAY_10, 11, 0), 60)
    stats = await diary.stats(diary.local(MAY_10, 12, 0), date(2026, 5, 8), MAY_10)
    assert (stats.current_streak_days, stats.longest_streak_days) == (3, 3)


async def test_a_session_counts_whole_for_the_day_it_started() -> None:
    diary = Diary("Europe/Berlin")
    await diary.focus(diary.local(date(2026, 5, 9), 23, 30), 90)

    stats = await diary.stats(diary.local(date(2026, 5, 10), 12, 0), date(2026, 5, 9), MAY_10)

    assert [(d.focus_minutes, d.goal_met) for d in stats.days] == [(90, True), (0, False)]
    assert stats.current_streak_days == 1
