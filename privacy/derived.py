"""What the service derives from a user's records, for their export (Art. 15 covers inferred
data too): their streaks and their focus per local day over the last year, as `/v1/stats`
computes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from domain.common import Clock
from domain.errors import NotFound
from domain.stats.model import local_today
from domain.stats.use_cases import get_stats
from domain.unit_of_work import UnitOfWorkFactory

YEAR = timedelta(days=365)


class DerivedStats:
    def __init__(self, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    async def __call__(self, uid: str) -> Mapping[str, Any] | None:
        """The user's derived data, or None when they have no account."""
        async with self._unit_of_work() as uow:
            user = await uow.users.get(uid)
            if user is None:
                return None
            last = local_today(self._clock(), user.timezone)
            try:
                stats = await get_stats(uow, uid, last - YEAR, last, clock=self._clock)
            except NotFound:
                return None
        return {
            "timezone": stats.timezone,
            "daily_goal_minutes": stats.daily_goal_minutes,
            "current_streak_days": stats.current_streak_days,
            "longest_streak_days": stats.longest_streak_days,
            "focus_per_day": [
                {
                    "day": day.day.isoformat(),
                    "focus_minutes": day.focus_minutes,
                    "sessions_completed": day.sessions_completed,
                    "goal_met": day.goal_met,
                }
                for day in stats.days
                if day.sessions_completed
            ],
        }
