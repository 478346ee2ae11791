"""Use cases of a user's focus statistics."""

from __future__ import annotations

from datetime import date

from domain.common import Clock
from domain.errors import NotFound
from domain.stats.model import (
    Stats,
    current_streak,
    daily_series,
    local_today,
    longest_streak,
    validate_range,
)
from domain.unit_of_work import UnitOfWork


async def get_stats(
    uow: UnitOfWork, user_id: str, first: date, last: date, *, clock: Clock
) -> Stats:
    """Focus per local day in [first, last], and the streaks as of the user's local today.

    Only completed sessions count, on the day they started. Streaks use the user's current
    daily goal for every day and are not limited to the range.
    """
    validate_range(first, last)
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound(detail="no such user")
    goal = user.daily_goal_minutes
    totals = await uow.focus_sessions.daily_totals(user_id, first, last)
    met_days = await uow.focus_sessions.days_meeting_goal(user_id, goal * 60)
    today = local_today(clock(), user.timezone)
    return Stats(
        first=first,
        last=last,
        today=today,
        timezone=user.timezone,
        daily_goal_minutes=goal,
        days=daily_series(totals, first, last, goal),
        current_streak_days=current_streak(met_days, today),
        longest_streak_days=longest_streak(met_days),
    )
