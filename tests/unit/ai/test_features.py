"""A week's features: focus placed in the person's local hours, sessions counted, windows kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.ai.features import FocusWindow, ScheduleWindow, features_from_grid, week_features
from domain.focus_sessions.model import Outcome
from domain.schedules.model import Weekday
from domain.stats.model import focus_per_day
from tests.unit.ai.builders import schedule, session_at_local, session_at_utc

MON, TUE, WED, SUN = 0, 1, 2, 6
BERLIN = "Europe/Berlin"


def _cells(grid: tuple[tuple[int, ...], ...]) -> dict[tuple[int, int], int]:
    return {(d, h): m for d, row in enumerate(grid) for h, m in enumerate(row) if m}


def test_a_session_across_midnight_adds_to_both_local_days() -> None:
    s = session_at_local(datetime(2026, 3, 3, 23, 30), 75, BERLIN)  # a Tuesday

    f = week_features([s], [], date(2026, 3, 2))

    assert _cells(f.minutes_by_day_hour) == {(TUE, 23): 30, (WED, 0): 45}
    assert f.total_minutes == 75
    assert f.minutes_by_weekday == (0, 30, 45, 0, 0, 0, 0)
    assert f.busiest_day is Weekday.WED


def test_the_hour_skipped_when_clocks_go_forward_holds_no_focus() -> None:
    # 2026-03-29 in Berlin: 02:00 CET is 03:00 CEST (01:00 UTC).
    s = session_at_utc(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 60, BERLIN)

    f = week_features([s], [], date(2026, 3, 23))

    assert _cells(f.minutes_by_day_hour) == {(SUN, 1): 30, (SUN, 3): 30}


def test_the_hour_repeated_when_clocks_go_back_holds_both_hours() -> None:
    # 2026-10-25 in Berlin: 03:00 CEST is 02:00 CET again (01:00 UTC).
    s = session_at_utc(datetime(2026, 10, 25, 0, 0, tzinfo=UTC), 120, BERLIN)

    f = week_features([s], [], date(2026, 10, 19))

    assert _cells(f.minutes_by_day_hour) == {(SUN, 2): 120}
    assert f.best_window == FocusWindow((Weekday.SUN,), 2, 4, 120)


def test_a_zone_half_an_hour_off_splits_at_its_own_hours() -> None:
    s = session_at_utc(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 60, "Asia/Kolkata")

    f = week_features([s], [], date(2026, 3, 2))

    assert _cells(f.minutes_by_day_hour) == {(MON, 14): 30, (MON, 15): 30}


def test_abandoned_sessions_are_counted_but_add_no_focus() -> None:
    sessions = [
        session_at_local(datetime(2026, 3, 2, 9), 50, "UTC", n=1),
        session_at_local(datetime(2026, 3, 3, 9), 50, "UTC", n=2),
        session_at_local(datetime(2026, 3, 4, 9), 30, "UTC", Outcome.ABANDONED, n=3),
        session_at_local(datetime(2026, 3, 5, 9), 30, "UTC", None, n=4),
    ]

    f = week_features(sessions, [], date(2026, 3, 2))

    assert (f.sessions_started, f.sessions_completed, f.sessions_abandoned) == (4, 2, 1)
    assert f.completion_rate_percent == 67
    assert f.total_minutes == 100
    assert f.best_window == FocusWindow((Weekday.MON, Weekday.TUE), 9, 11, 100)


def test_an_empty_week_has_nothing_best_and_nothing_busiest() -> None:
    f = week_features([], [], date(2026, 3, 2))

    assert f.minutes_by_day_hour == ((0,) * 24,) * 7
    assert (f.total_minutes, f.sessions_started, f.completion_rate_percent) == (0, 0, 0)
    assert f.best_window is None
    assert f.busiest_day is None


def test_sessions_of_other_weeks_are_left_out_by_their_local_date() -> None:
    # Sunday 23:30 in Berlin is still Sunday there, though Monday in UTC an hour later.
    before = session_at_local(datetime(2026, 3, 1, 23, 30), 60, BERLIN, n=1)
    after = session_at_local(datetime(2026, 3, 9, 0, 10), 60, BERLIN, n=2)

    f = week_features([before, after], [], date(2026, 3, 2))

    assert f.sessions_started == 0
    assert f.total_minutes == 0


def test_overlapping_sessions_count_every_minute_once() -> None:
    sessions = [
        session_at_local(datetime(2026, 3, 2, 9), 60, "UTC", n=1),
        session_at_local(datetime(2026, 3, 2, 9, 30), 60, "UTC", n=2),
    ]

    f = week_features(sessions, [], date(2026, 3, 2))

    assert _cells(f.minutes_by_day_hour) == {(MON, 9): 60, (MON, 10): 30}
    assert f.total_minutes == 90


def test_schedule_windows_keep_enabled_schedules_in_a_fixed_order() -> None:
    evening = schedule([Weekday.FRI, Weekday.MON], time(20), time(22, 30), n=1, hard=True)
    night = schedule([Weekday.SAT], time(23), time(6), n=2)
    off = schedule([Weekday.SUN], time(8), time(9), n=3, enabled=False)

    one = week_features([], [evening, night, off], date(2026, 3, 2))
    other = week_features([], [off, night, evening], date(2026, 3, 2))

    assert one.schedule_windows == (
        ScheduleWindow((Weekday.MON, Weekday.FRI), 20, 0, 22, 30, hard=True),
        ScheduleWindow((Weekday.SAT,), 23, 0, 6, 0, hard=False),
    )
    assert other == one


def test_a_week_starts_on_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        week_features([], [], date(2026, 3, 3))


def test_the_best_window_is_the_earliest_of_equal_ones() -> None:
    grid = tuple(tuple(30 if h in (6, 7, 18, 19) else 0 for h in range(24)) for _ in range(7))

    f = features_from_grid(
        week_start=date(2026, 3, 2),
        grid=grid,
        total_minutes=840,
        sessions_started=7,
        sessions_completed=7,
        sessions_abandoned=0,
        schedule_windows=(),
    )

    assert f.best_window == FocusWindow(tuple(Weekday), 6, 8, 420)
    assert f.completion_rate_percent == 100


WEEK = date(2026, 3, 23)  # Berlin and New York are both in summer time by its Sunday
ZONES = ("UTC", BERLIN, "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe")


@given(
    st.lists(
        st.tuples(
            st.integers(-24 * 60, 8 * 24 * 60),
            st.integers(0, 24 * 60),
            st.sampled_from(ZONES),
            st.sampled_from([Outcome.COMPLETED, Outcome.ABANDONED]),
        ),
        max_size=10,
    )
)
def test_the_grid_holds_the_focus_the_stats_screen_counts(
    rows: list[tuple[int, int, str, Outcome]],
) -> None:
    start = datetime(2026, 3, 23, tzinfo=UTC)
    sessions = [
        session_at_utc(start + timedelta(minutes=at), length, zone, outcome, n=n)
        for n, (at, length, zone, outcome) in enumerate(rows)
    ]
    in_week = [s for s in sessions if WEEK <= s.local_date < WEEK + timedelta(days=7)]

    f = week_features(sessions, [], WEEK)

    stats_minutes = sum(t.focus_seconds for t in focus_per_day(in_week)) // 60
    assert sum(map(sum, f.minutes_by_day_hour)) == f.total_minutes == stats_minutes
    assert f.sessions_started == len(in_week)
