"""What AI features may spend: per person and feature, a number of results per period (one
insight a week, three suggestions a day), and per provider a daily token budget with a soft
limit (reported) and a hard one (calls refused: the feature falls back to the local provider).
Reservations are taken before a call, atomically, so that no burst of events overspends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol


class AiFeature(StrEnum):
    WEEKLY_INSIGHT = "weekly_insight"
    SCHEDULE_SUGGESTION = "schedule_suggestion"


@dataclass(frozen=True, slots=True)
class Cap:
    count: int
    days: int
    """The period's length; periods start on Mondays for 7 days, every day for 1."""

    def period_start(self, day: date) -> date:
        if self.days == 7:
            return day - timedelta(days=day.weekday())
        return day


CAPS: dict[AiFeature, Cap] = {
    AiFeature.WEEKLY_INSIGHT: Cap(count=1, days=7),
    AiFeature.SCHEDULE_SUGGESTION: Cap(count=3, days=1),
}


@dataclass(frozen=True, slots=True)
class TokenBudget:
    soft: int
    """Above it, each call is reported (a metric and a log line)."""
    hard: int
    """A reservation that would pass it is refused."""

    def __post_init__(self) -> None:
        if not 0 < self.soft <= self.hard:
            raise ValueError("a token budget needs 0 < soft <= hard")


class ResultCaps(Protocol):
    """A person's results per feature and period, taken in the caller's transaction (their
    unit of work's): the reservation commits or rolls back with the result it is for."""

    async def take(self, uid: str, feature: AiFeature, day: date) -> bool:
        """One result of `feature` for the person in `day`'s period, if the cap allows."""
        ...


class Budgets(Protocol):
    async def take_result(self, uid: str, feature: AiFeature, day: date) -> bool:
        """One result of `feature` for the person in `day`'s period, if the cap allows."""
        ...

    async def take_tokens(
        self, provider: str, day: date, tokens: int, budget: TokenBudget
    ) -> int | None:
        """Reserves `tokens` of the provider's day; the day's total after it, or None when it
        would pass the hard limit (nothing is reserved then)."""
        ...
