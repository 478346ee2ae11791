"""The figures of data-subject requests that compliance staff report on: requests received
per month, how long completed ones took (days on the clock: from receipt to completion,
without the pause while identity was unverified), and what is overdue or at risk now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: date
    """The month's first day (UTC) of the requests received in it."""
    exports: int
    erasures: int
    completed: int
    """Of those received that month, how many are completed by now."""
    median_days: float | None
    p95_days: float | None
    """Days on the clock of those completed; None when none is."""

    @property
    def received(self) -> int:
        return self.exports + self.erasures


@dataclass(frozen=True, slots=True)
class CompletionDays:
    completed: int
    median_days: float | None
    p95_days: float | None


@dataclass(frozen=True, slots=True)
class RequestFigures:
    since: date
    months: Sequence[MonthFigures]
    """Every month from `since` to now, oldest first, months without requests included."""
    completion: CompletionDays
    """Of every request received since `since` and completed."""
    open: int
    at_risk: int
    overdue: int


def month_starts(since: date, now: datetime) -> list[date]:
    """The first days of the months from `since`'s to `now`'s (UTC), oldest first."""
    first, last = since.replace(day=1), now.astimezone(UTC).date().replace(day=1)
    months = []
    while first <= last:
        months.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return months


def months_back(now: datetime, count: int) -> date:
    """The first day of the month `count - 1` months before `now`'s (so `count` months)."""
    today = now.astimezone(UTC).date()
    index = today.year * 12 + today.month - 1 - (count - 1)
    return date(index // 12, index % 12 + 1, 1)
