from __future__ import annotations

import datetime as dt

from domain.usage.model import UsageReport


class FakeUsageReportRepository:
    """In-memory usage storage for unit tests."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, dt.date], UsageReport] = {}

    async def get(
        self, user_id: str, installation_id: str, day: dt.date, *, for_update: bool = False
    ) -> UsageReport | None:
        return self.rows.get((user_id, installation_id, day))

    async def list(
        self,
        user_id: str,
        first: dt.date,
        last: dt.date,
        *,
        after: tuple[dt.date, str] | None,
        limit: int,
    ) -> list[UsageReport]:
        found = sorted(
            (r for (u, _, day), r in self.rows.items() if u == user_id and first <= day <= last),
            key=lambda r: (r.date, r.installation_id),
        )
        if after is not None:
            found = [r for r in found if (r.date, r.installation_id) > after]
        return found[:limit]

    async def save(self, report: UsageReport) -> None:
        self.rows[(report.user_id, report.installation_id, report.date)] = report
