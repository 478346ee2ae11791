"""Focus per local day and streaks: pure computations on calendar days.

A day is a local calendar date (`date`), never a span of 24 hours: a 23- or 25-hour day across a
DST change is still one day, and a session keeps the local date it was recorded on when the user
later moves to another timezone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.errors import ValidationFailed
from domain.focus_sessions.model import FocusSession, Outcome

MAX_RANGE_DAYS = 366
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DayTotal:
    """Completed focus of one local day."""

    day: date
    focus_seconds: int
    sessions_completed: int


@dataclass(frozen=True, slots=True)
class DayStats:
    day: date
    focus_minutes: int
    sessions_completed: int
    goal_met: bool


@dataclass(frozen=True, slots=True)
class Stats:
    first: date
    last: date
    today: date
    timezone: str
    daily_goal_minutes: int
    days: list[DayStats]
    current_streak_days: int
    longest_streak_days: int


def validate_range(first: date, last: date) -> None:
    if first > last:
        raise ValidationFailed.on("to", "before_from", "'to' must not be before 'from'")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed.on(
            "to", "range_too_long", f"at most {MAX_RANGE_DAYS} days per request"
        )


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def goal_met(focus_seconds: int, daily_goal_minutes: int) -> bool:
    # Seconds, not rounded minutes: two sessions of 29.5 minutes do not make an hour.
    return focus_seconds >= daily_goal_minutes * 60


def daily_series(
    totals: Iterable[DayTotal], first: date, last: date, daily_goal_minutes: int
) -> list[DayStats]:
    """One entry per day from `first` to `last`, days without focus included as zeros."""
    by_day = {t.day: t for t in totals}
    series: list[DayStats] = []
    # Counted, not stepped past `last`: the day after 9999-12-31 does not exist.
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        total = by_day.get(day, DayTotal(day, 0, 0))
        series.append(
            DayStats(
                day=day,
                focus_minutes=total.focus_seconds // 60,
                sessions_completed=total.sessions_completed,
                goal_met=goal_met(total.focus_seconds, daily_goal_minutes),
            )
        )
    return series


def _runs(met_days: Iterable[date]) -> list[tuple[date, int]]:
    """Runs of consecutive days as (last day, length), oldest first."""
    runs: list[tuple[date, int]] = []
    for day in sorted(set(met_days)):
        if runs and runs[-1][0] + ONE_DAY == day:
            runs[-1] = (day, runs[-1][1] + 1)
        else:
            runs.append((day, 1))
    return runs


def longest_streak(met_days: Iterable[date]) -> int:
    return max((length for _, length in _runs(met_days)), default=0)


def current_streak(met_days: Iterable[date], today: date) -> int:
    """The run that reaches today, or yesterday while today's goal is not met yet.

    A run may end after `today`: a user who moves west (Tokyo to Los Angeles) can have recorded
    a day that is still ahead in their new timezone. That day belongs to their current run.
    """
    runs = _runs(met_days)
    if not runs:
        return 0
    last_day, length = runs[-1]
    return length if last_day >= today - ONE_DAY else 0


def focus_per_day(sessions: Iterable[FocusSession]) -> list[DayTotal]:
    """Completed focus per local day, every instant counted once.

    Sessions are taken in the order they started (then by id); each adds the part of its time
    that no earlier-started one covered, to the local day it started on. Overlapping sessions
    (two devices, a start sent again with another id) cannot count twice or lift a streak.
    Postgres computes the same in SQL (datastore/postgres/repositories/focus_sessions.py).
    """
    completed = sorted(
        (s for s in sessions if s.outcome is Outcome.COMPLETED and s.ended_at is not None),
        key=lambda s: (s.started_at, s.id),
    )
    focus: dict[date, timedelta] = defaultdict(timedelta)
    count: dict[date, int] = defaultdict(int)
    covered_until: datetime | None = None
    for session in completed:
        assert session.ended_at is not None
        start = (
            session.started_at if covered_until is None else max(session.started_at, covered_until)
        )
        focus[session.local_date] += max(session.ended_at - start, timedelta())
        count[session.local_date] += 1
        covered_until = max(covered_until or session.ended_at, session.ended_at)
    second = timedelta(seconds=1)
    return [DayTotal(day, focus[day] // second, count[day]) for day in sorted(count)]


def shifted(day: date, days: int) -> date:
    """`day` moved by `days`, held at the calendar's ends (0001-01-01, 9999-12-31)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min
