"""What a prompt may know about a person's week: aggregates only, typed so nothing else fits.

Every field is an int, a bool, a date, a `Weekday` or a tuple or dataclass of those: no field
can hold a string, so no id, name, app token, domain or free text can reach a prompt by its
type (tests/unit/ai/test_privacy.py walks the type hints to keep it so).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.focus_sessions.model import FocusSession, Outcome
from domain.schedules.model import Schedule, Strictness, Weekday

DAYS = tuple(Weekday)
HOURS = 24
BEST_WINDOW_HOURS = 2
# Every timezone in use today is offset from UTC by whole quarter hours and changes offset on a
# quarter hour, so a piece of a session inside one UTC quarter hour has one local hour.
_PIECE = timedelta(minutes=15)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MINUTE_MICROS = 60_000_000

Grid = tuple[tuple[int, ...], ...]
"""Minutes by weekday (Monday first) x local hour (0-23)."""


@dataclass(frozen=True, slots=True)
class FocusWindow:
    """The hours of the day with the most focus, and the days on which there was some then."""

    days: tuple[Weekday, ...]
    start_hour: int
    end_hour: int
    """Exclusive, 1-24."""
    minutes: int


@dataclass(frozen=True, slots=True)
class ScheduleWindow:
    """When an enabled schedule blocks, in its local wall time."""

    days: tuple[Weekday, ...]
    start_hour: int
    start_minute: int
    end_hour: int
    end_minute: int
    """Earlier than the start when the window crosses midnight."""
    hard: bool


@dataclass(frozen=True, slots=True)
class WeekFeatures:
    """One person's ISO week of focus, as aggregates."""

    week_start: date
    """The Monday the week begins on."""
    minutes_by_day_hour: Grid
    minutes_by_weekday: tuple[int, ...]
    total_minutes: int
    sessions_started: int
    sessions_completed: int
    sessions_abandoned: int
    completion_rate_percent: int
    """Completed of ended sessions, rounded; 0 when none ended."""
    best_window: FocusWindow | None
    busiest_day: Weekday | None
    schedule_windows: tuple[ScheduleWindow, ...]


def week_features(
    sessions: Iterable[FocusSession], schedules: Iterable[Schedule], week_start: date
) -> WeekFeatures:
    """The features of the week starting `week_start` (a Monday).

    A session belongs to the week of its local date, as on the stats screen; its completed
    time is placed by the local weekday and hour of each instant in the session's timezone (a
    session across midnight adds to both days; a repeated hour of a DST change can hold 120
    minutes, a skipped one none). Overlapping completed sessions count every instant once.
    """
    if week_start.weekday() != 0:
        raise ValueError("a week starts on a Monday")
    week_end = week_start + timedelta(days=7)
    in_week = [s for s in sessions if week_start <= s.local_date < week_end]
    micros = _micros_by_day_hour(in_week)
    return features_from_grid(
        week_start=week_start,
        grid=tuple(tuple(cell // _MINUTE_MICROS for cell in row) for row in micros),
        total_minutes=sum(map(sum, micros)) // _MINUTE_MICROS,
        sessions_started=len(in_week),
        sessions_completed=sum(1 for s in in_week if s.outcome is Outcome.COMPLETED),
        sessions_abandoned=sum(1 for s in in_week if s.outcome is Outcome.ABANDONED),
        schedule_windows=schedule_windows(schedules),
    )


def features_from_grid(
    *,
    week_start: date,
    grid: Grid,
    total_minutes: int,
    sessions_started: int,
    sessions_completed: int,
    sessions_abandoned: int,
    schedule_windows: tuple[ScheduleWindow, ...],
) -> WeekFeatures:
    """The features with everything derivable from the grid and the counts derived."""
    if len(grid) != len(DAYS) or any(len(row) != HOURS for row in grid):
        raise ValueError("the grid is 7 days x 24 hours")
    by_weekday = tuple(sum(row) for row in grid)
    return WeekFeatures(
        week_start=week_start,
        minutes_by_day_hour=grid,
        minutes_by_weekday=by_weekday,
        total_minutes=total_minutes,
        sessions_started=sessions_started,
        sessions_completed=sessions_completed,
        sessions_abandoned=sessions_abandoned,
        completion_rate_percent=_percent(
            sessions_completed, sessions_completed + sessions_abandoned
        ),
        best_window=best_window(grid),
        busiest_day=_busiest_day(by_weekday),
        schedule_windows=schedule_windows,
    )


def best_window(grid: Grid) -> FocusWindow | None:
    """The two-hour span of the day with the most focus over the week.

    Of equal spans, the one whose first hour holds the most (9-11, not 8-10, for focus at 9
    only), then the earliest.
    """
    by_hour = [sum(row[hour] for row in grid) for hour in range(HOURS)]
    starts = range(HOURS - BEST_WINDOW_HOURS + 1)
    spans = [(sum(by_hour[h : h + BEST_WINDOW_HOURS]), by_hour[h], -h) for h in starts]
    minutes, _, negative_start = max(spans)
    if minutes == 0:
        return None
    start = -negative_start
    end = start + BEST_WINDOW_HOURS
    days = tuple(day for day, row in zip(DAYS, grid, strict=True) if sum(row[start:end]))
    return FocusWindow(days, start, end, minutes)


def schedule_windows(schedules: Iterable[Schedule]) -> tuple[ScheduleWindow, ...]:
    """The enabled schedules' windows, in a fixed order (whatever order they came in)."""
    windows = {
        ScheduleWindow(
            days=tuple(d for d in DAYS if d in s.days),
            start_hour=s.start_local.hour,
            start_minute=s.start_local.minute,
            end_hour=s.end_local.hour,
            end_minute=s.end_local.minute,
            hard=s.strictness is Strictness.HARD,
        )
        for s in schedules
        if s.enabled
    }
    return tuple(sorted(windows, key=_window_key))


def _window_key(w: ScheduleWindow) -> tuple[int, int, int, int, tuple[int, ...], bool]:
    days = tuple(DAYS.index(d) for d in w.days)
    return (w.start_hour, w.start_minute, w.end_hour, w.end_minute, days, w.hard)


def _micros_by_day_hour(sessions: list[FocusSession]) -> list[list[int]]:
    micros = [[0] * HOURS for _ in DAYS]
    covered_until: datetime | None = None
    completed = sorted(
        (s for s in sessions if s.outcome is Outcome.COMPLETED and s.ended_at is not None),
        key=lambda s: (s.started_at, s.id),
    )
    for session in completed:
        assert session.ended_at is not None
        start = session.started_at
        if covered_until is not None:
            start = max(start, covered_until)
        _add_local_hours(micros, start, session.ended_at, ZoneInfo(session.timezone))
        covered_until = max(covered_until or session.ended_at, session.ended_at)
    return micros


def _add_local_hours(
    micros: list[list[int]], start: datetime, end: datetime, zone: ZoneInfo
) -> None:
    # In UTC: arithmetic on a zone's wall clock would step across a DST change wrongly.
    at, end = start.astimezone(UTC), end.astimezone(UTC)
    while at < end:
        # The next UTC quarter hour after `at`: no local hour changes in between.
        upto = min(end, at + _PIECE - (at - _EPOCH) % _PIECE)
        local = at.astimezone(zone)
        micros[local.weekday()][local.hour] += (upto - at) // _MICROSECOND
        at = upto


def _percent(part: int, whole: int) -> int:
    """`part` of `whole` as a whole percentage, halves rounded up; 0 of nothing is 0."""
    return (200 * part + whole) // (2 * whole) if whole else 0


def _busiest_day(by_weekday: tuple[int, ...]) -> Weekday | None:
    most = max(by_weekday)
    return DAYS[by_weekday.index(most)] if most else None
