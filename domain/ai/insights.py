"""A person's stored AI results (the weekly insight, schedule suggestions), where they are
kept, and why a hosted provider was not used for one (`Refusal`, counted in metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from domain.ai.budgets import AiFeature


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
class StoredInsight:
    uid: str
    feature: AiFeature
    period_start: date
    provider: str
    """Who wrote it: `local` when the hosted provider was refused or failed."""
    text: str
    numbers: tuple[int, ...]
    created_at: datetime


class InsightStore(Protocol):
    async def get(
        self, uid: str, feature: AiFeature, period_start: date
    ) -> StoredInsight | None: ...

    async def add(self, insight: StoredInsight) -> StoredInsight:
        """Stores it, or returns the one already stored for the same person, feature and
        period (a redelivered event makes no second one)."""
        ...
