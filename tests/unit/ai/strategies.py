"""Hypothesis strategies for `WeekFeatures` made directly from a grid of minutes."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from domain.ai.features import DAYS, HOURS, ScheduleWindow, WeekFeatures, features_from_grid
from domain.schedules.model import Weekday

_CELL = st.one_of(st.just(0), st.just(0), st.integers(0, 120))
_MONDAYS = st.dates(min_value=date(2000, 1, 3), max_value=date(2100, 1, 1)).map(
    lambda d: d - timedelta(days=d.weekday())
)
_DAYS = st.sets(st.sampled_from(tuple(Weekday))).map(lambda s: tuple(d for d in DAYS if d in s))
SCHEDULE_WINDOWS = st.builds(
    ScheduleWindow,
    days=_DAYS,
    start_hour=st.integers(0, 23),
    start_minute=st.integers(0, 59),
    end_hour=st.integers(0, 23),
    end_minute=st.integers(0, 59),
    hard=st.booleans(),
)


@st.composite
def week_features(draw: st.DrawFn) -> WeekFeatures:
    cell = st.just(0) if draw(st.booleans()) else _CELL  # weeks without focus, often
    grid = tuple(tuple(draw(cell) for _ in range(HOURS)) for _ in DAYS)
    started = draw(st.integers(0, 60))
    completed = draw(st.integers(0, started))
    abandoned = draw(st.integers(0, started - completed))
    return features_from_grid(
        week_start=draw(_MONDAYS),
        grid=grid,
        total_minutes=sum(map(sum, grid)) + draw(st.integers(0, 7 * HOURS)),
        sessions_started=started,
        sessions_completed=completed,
        sessions_abandoned=abandoned,
        schedule_windows=tuple(draw(st.lists(SCHEDULE_WINDOWS, max_size=4))),
    )
