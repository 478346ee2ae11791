"""What usage use cases need from storage."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from domain.usage.model import UsageReport


class UsageReportRepository(Protocol):
    async def get(
        self, user_id: str, installation_id: str, day: dt.date, *, for_update: bool = False
    ) -> UsageReport | None:
        """`for_update` holds the row until commit, so that an `If-Match` check stays true."""
        ...

    async def list(
        self,
        user_id: str,
        first: dt.date,
        last: dt.date,
        *,
        after: tuple[dt.date, str] | None,
        limit: int,
    ) -> list[UsageReport]:
        """Reports dated `first`..`last`, by (date, installation_id), strictly after `after`."""
        ...

    async def save(self, report: UsageReport) -> None: ...
