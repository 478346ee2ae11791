"""`UsageReportRepository` on Postgres: one row per (user, installation, date), upserted.

`get(for_update=True)` locks the row a report's write was decided on; `usage_report_row` is
the row the backfill writes too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, Table, and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from datastore.postgres.tables.usage import UsageReportRow
from domain.usage.model import AppUsage, UsageCategory, UsageReport

_TABLE: Table = UsageReportRow.__table__  # type: ignore[attr-defined]


def to_usage_report(row: Row[Any]) -> UsageReport:
    m = row._mapping  # by key: a Row's attributes cost ~0.6 µs each
    return UsageReport(
        user_id=m["user_id"],
        installation_id=m["installation_id"],
        date=m["date"],
        total_minutes=m["total_minutes"],
        pickups=m["pickups"],
        minutes_per_category={UsageCategory(k): v for k, v in m["minutes_per_category"].items()},
        top_apps=tuple(AppUsage(app["token"], app["minutes"]) for app in m["top_apps"]),
        version=m["version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def usage_report_row(report: UsageReport) -> dict[str, Any]:
    """The row of a report at its own version (the backfill writes it too)."""
    return {
        "user_id": report.user_id,
        "installation_id": report.installation_id,
        "date": report.date,
        "total_minutes": report.total_minutes,
        "pickups": report.pickups,
        "minutes_per_category": {str(k): v for k, v in report.minutes_per_category.items()},
        "top_apps": [{"token": a.token, "minutes": a.minutes} for a in report.top_apps],
        "version": report.version,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }


class PostgresUsageReportRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(
        self, user_id: str, installation_id: str, day: dt.date, *, for_update: bool = False
    ) -> UsageReport | None:
        stmt = select(_TABLE).where(
            col(UsageReportRow.user_id) == user_id,
            col(UsageReportRow.installation_id) == installation_id,
            col(UsageReportRow.date) == day,
        )
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._connection.execute(stmt)).one_or_none()
        return to_usage_report(row) if row else None

    async def list(
        self,
        user_id: str,
        first: dt.date,
        last: dt.date,
        *,
        after: tuple[dt.date, str] | None,
        limit: int,
    ) -> list[UsageReport]:
        day = col(UsageReportRow.date)
        installation_id = col(UsageReportRow.installation_id)
        stmt = select(_TABLE).where(
            col(UsageReportRow.user_id) == user_id, day >= first, day <= last
        )
        if after is not None:
            after_day, after_installation = after
            # Spelled out rather than a row comparison, so that (user_id, date) bounds the scan.
            stmt = stmt.where(
                day >= after_day,
                or_(day > after_day, and_(day == after_day, installation_id > after_installation)),
            )
        stmt = stmt.order_by(day, installation_id).limit(limit)
        return [to_usage_report(r) for r in await self._connection.execute(stmt)]

    async def save(self, report: UsageReport) -> None:
        values = usage_report_row(report)
        stmt = insert(_TABLE).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "installation_id", "date"],
            set_={
                k: v
                for k, v in values.items()
                if k not in ("user_id", "installation_id", "date", "created_at")
            },
        )
        await self._connection.execute(stmt)
