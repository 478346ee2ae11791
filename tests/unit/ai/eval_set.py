"""The eval set: synthetic user-weeks of different kinds of people, made by a seeded generator.

The same seed always makes the same weeks, so a change in the pass rate is a change in a
provider or in the rules, never in the data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.focus_sessions.model import FocusSession, Outcome
from domain.schedules.model import Schedule, Weekday
from tests.unit.ai.builders import schedule, session_at_local

SEED = 20260302
WEEKS_PER_KIND = 9
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
)
WEEK_STARTS = (
    date(2026, 3, 2),
    date(2026, 3, 23),  # Berlin's clocks go forward on its Sunday
    date(2026, 10, 19),  # and back on this one's
    date(2026, 11, 2),  # New York's went back the day before
)


@dataclass(frozen=True)
class UserWeek:
    kind: str
    week_start: date
    sessions: tuple[FocusSession, ...]
    schedules: tuple[Schedule, ...]


@dataclass(frozen=True)
class _Habit:
    """When a kind of person starts sessions, for how long, and how often they give up."""

    days: tuple[int, ...]
    start_hours: tuple[int, ...]
    sessions_per_day: tuple[int, int]
    minutes: tuple[int, int]
    abandon_rate: float


_HABITS: dict[str, _Habit | None] = {
    "morning_focuser": _Habit((0, 1, 2, 3, 4), (6, 7, 8, 9), (1, 2), (25, 90), 0.1),
    "night_owl": _Habit(tuple(range(7)), (21, 22, 23), (0, 2), (30, 150), 0.2),
    "weekend_only": _Habit((5, 6), (10, 11, 13, 15), (1, 3), (45, 180), 0.1),
    "many_abandons": _Habit(tuple(range(7)), tuple(range(8, 22)), (1, 4), (10, 60), 0.7),
    "office_hours": _Habit((0, 1, 2, 3, 4), (9, 10, 13, 14, 15), (2, 4), (25, 50), 0.25),
    "all_hours": _Habit(tuple(range(7)), tuple(range(24)), (0, 5), (5, 720), 0.3),
    "no_sessions": None,
}


def user_weeks(seed: int = SEED) -> list[UserWeek]:
    """`WEEKS_PER_KIND` weeks of each kind of person: 63 with the defaults."""
    weeks: list[UserWeek] = []
    for kind_number, (kind, habit) in enumerate(sorted(_HABITS.items())):
        for n in range(WEEKS_PER_KIND):
            rng = random.Random(seed * 1000 + kind_number * 100 + n)
            weeks.append(_user_week(kind, habit, rng))
    return weeks


def _user_week(kind: str, habit: _Habit | None, rng: random.Random) -> UserWeek:
    week_start = rng.choice(WEEK_STARTS)
    zone = rng.choice(ZONES)
    sessions = _sessions(habit, week_start, zone, rng) if habit else []
    return UserWeek(kind, week_start, tuple(sessions), tuple(_schedules(zone, rng)))


def _sessions(habit: _Habit, week_start: date, zone: str, rng: random.Random) -> list[FocusSession]:
    sessions: list[FocusSession] = []
    for day in habit.days:
        for _ in range(rng.randint(*habit.sessions_per_day)):
            local = datetime.combine(week_start + timedelta(days=day), time()) + timedelta(
                hours=rng.choice(habit.start_hours), minutes=rng.randrange(0, 60, 5)
            )
            minutes = rng.randint(*habit.minutes)
            outcome = _outcome(habit, rng)
            sessions.append(session_at_local(local, minutes, zone, outcome, n=len(sessions) + 1))
    return sessions


def _outcome(habit: _Habit, rng: random.Random) -> Outcome | None:
    if rng.random() < 0.03:
        return None  # still running when the week was read
    return Outcome.ABANDONED if rng.random() < habit.abandon_rate else Outcome.COMPLETED


def _schedules(zone: str, rng: random.Random) -> list[Schedule]:
    made: list[Schedule] = []
    for n in range(rng.randint(0, 3)):
        days = rng.sample(tuple(Weekday), rng.randint(1, 7))
        start = time(rng.randrange(24), rng.choice((0, 15, 30, 45)))
        end = time(rng.randrange(24), rng.choice((0, 30)))
        if end == start:
            continue
        made.append(
            schedule(
                days,
                start,
                end,
                n=n + 1,
                hard=rng.random() < 0.3,
                zone=zone,
                enabled=rng.random() < 0.9,
            )
        )
    return made
