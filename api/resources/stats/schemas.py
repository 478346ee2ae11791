"""Wire shapes of stats: one entry for every day of the range (days without focus too), the
current streak and the longest ever.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from api.schemas import ResponseModel
from domain.stats.model import DayStats, Stats


class StatsDayOut(ResponseModel):
    date: date
    focus_minutes: int = Field(description="Completed sessions started this local day")
    sessions_completed: int
    goal_met: bool

    @classmethod
    def of(cls, day: DayStats) -> StatsDayOut:
        return cls(
            date=day.day,
            focus_minutes=day.focus_minutes,
            sessions_completed=day.sessions_completed,
            goal_met=day.goal_met,
        )


class StatsOut(ResponseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    today: date = Field(description="Your local today, in `timezone`")
    timezone: str
    daily_goal_minutes: int
    days: list[StatsDayOut] = Field(description="Every day from `from` to `to`")
    current_streak_days: int = Field(
        description="Days in a row meeting the goal up to today (or yesterday while today "
        "is not met yet)"
    )
    longest_streak_days: int = Field(description="The longest run ever, not just in the range")

    @classmethod
    def of(cls, stats: Stats) -> StatsOut:
        return cls.model_validate(
            {
                "from": stats.first,
                "to": stats.last,
                "today": stats.today,
                "timezone": stats.timezone,
                "daily_goal_minutes": stats.daily_goal_minutes,
                "days": [StatsDayOut.of(d) for d in stats.days],
                "current_streak_days": stats.current_streak_days,
                "longest_streak_days": stats.longest_streak_days,
            }
        )
