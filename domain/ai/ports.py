"""The port every insight provider implements (local rule-based, hosted model), and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Protocol

from domain.ai.features import WeekFeatures
from domain.schedules.model import Weekday


@dataclass(frozen=True, slots=True)
class Insight:
    """A few sentences about the week, and the numbers the provider says it used."""

    text: str
    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A schedule the person can accept as it is: which days, which local window, and why."""

    days: tuple[Weekday, ...]
    start_local: time
    end_local: time
    """Earlier than `start_local` when the window crosses midnight."""
    reason: str


class InsightProvider(Protocol):
    """Writes insights and suggestions from a week's features; raises a `ProviderError`."""

    @property
    def name(self) -> str: ...

    async def weekly_insight(self, features: WeekFeatures) -> Insight: ...

    async def schedule_suggestion(self, features: WeekFeatures) -> Suggestion: ...


class ProviderError(Exception):
    """A provider gave no usable answer; the caller falls back to the local provider."""


class ProviderTimeout(ProviderError):
    """No answer within the time allowed."""


class ProviderRateLimited(ProviderError):
    """The provider refused for now; it may be asked again after `retry_after_seconds`."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class ProviderUnavailable(ProviderError):
    """The provider cannot be reached or answered with a server error."""


class InvalidOutput(ProviderError):
    """The answer broke the output rules (see `domain.ai.validation`); never stored."""

    def __init__(self, violations: tuple[str, ...]) -> None:
        super().__init__("invalid output: " + ", ".join(violations))
        self.violations = violations
