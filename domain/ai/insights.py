"""A person's AI results (the weekly insight, schedule suggestions): records of their own in
`GET /v1/insights` and `/v1/sync`, dismissable (a dismissed one stays as a tombstone, so a
redelivered event never makes it again), a suggestion acceptable once; and why a hosted
provider was not used for one (`Refusal`, counted in metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from domain.ai.budgets import AiFeature
from domain.schedules.model import Weekday


class Refusal(StrEnum):
    """Why the hosted provider was not asked, or its answer not used: the local provider's
    answer is stored instead (budget: none at all)."""

    NO_CONSENT = "no_consent"
    OVER_BUDGET = "token_budget"
    PROVIDER_ERROR = "provider_error"
    INVALID_OUTPUT = "invalid_output"
    USER_CAP = "user_cap"
    """The person's cap for the feature and period is reached: nothing is made."""


@dataclass(frozen=True, slots=True)
class SuggestedSchedule:
    """What accepting a suggestion creates: the days and the local window."""

    days: tuple[Weekday, ...]
    start_local: time
    end_local: time
    """Earlier than `start_local` when the window crosses midnight."""

    @property
    def key(self) -> str:
        """The same suggestion twice in a period is stored once: `mon,tue|09:00-11:00`."""
        days = ",".join(d.value for d in self.days)
        return f"{days}|{self.start_local:%H:%M}-{self.end_local:%H:%M}"


@dataclass(frozen=True, slots=True)
class AiInsight:
    id: UUID
    user_id: str
    feature: AiFeature
    period_start: date
    """The week's Monday (weekly insight) or the day (suggestion)."""
    provider: str
    """Who wrote it: `local` when the hosted provider was refused or failed."""
    text: str
    """The insight's sentences, or the suggestion's reason."""
    numbers: tuple[int, ...]
    suggestion: SuggestedSchedule | None
    """Set for a schedule suggestion only."""
    accepted_schedule_id: UUID | None
    """The schedule accepting the suggestion created."""
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def dedupe_key(self) -> str:
        """Unique per person, feature and period: a redelivery stores nothing new."""
        return "" if self.suggestion is None else self.suggestion.key


class InsightRepository(Protocol):
    """A person's AI results. Reads see live ones; a dismissed one stays as a tombstone."""

    async def get(self, user_id: str, insight_id: UUID) -> AiInsight | None: ...

    async def find(
        self, user_id: str, feature: AiFeature, period_start: date, dedupe_key: str = ""
    ) -> AiInsight | None:
        """The result for that person, feature, period (and suggestion), dismissed or not."""
        ...

    async def suggestion_blocked(
        self, user_id: str, since: date, day: date, dedupe_key: str
    ) -> bool:
        """Whether a new suggestion would repeat one: a live suggestion of a period from
        `since` on that the person has not answered (neither accepted nor dismissed), or one
        for `day` with the same dedupe key, dismissed or not."""
        ...

    async def add(self, insight: AiInsight) -> bool:
        """Stores it; False (nothing written) when one with the same person, feature, period
        and dedupe key is stored already, dismissed or not."""
        ...

    async def save(self, insight: AiInsight) -> None:
        """Replaces a live one's acceptance, version and update time."""
        ...

    async def dismiss(self, user_id: str, insight_id: UUID, version: int, at: datetime) -> None:
        """Makes it a tombstone carrying `version` for sync."""
        ...

    # Last in the class: below it, `list` in an annotation would name this method.
    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[AiInsight]:
        """Up to `limit` live results in id (creation) order, strictly after `after`."""
        ...
