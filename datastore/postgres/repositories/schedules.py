"""`ScheduleRepository` on Postgres, through `OwnedCollection`.

`count_using_blocklist` is what keeps a blocklist in use from being deleted; `schedule_row`
is the row the backfill writes too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from datastore.postgres.repositories.owned import OwnedCollection
from datastore.postgres.tables.schedules import ScheduleRow
from domain.schedules.model import Schedule, Strictness, Weekday

_TABLE: Table = ScheduleRow.__table__  # type: ignore[attr-defined]
_LIVE = col(ScheduleRow.deleted_at).is_(None)


def to_schedule(row: Row[Any]) -> Schedule:
    """The entity of a row (a tombstone's too: sync reads `row.deleted_at` beside it)."""
    m = row._mapping  # by key: a Row's attributes cost ~0.6 µs each
    return Schedule(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        days=tuple(Weekday(d) for d in m["days"]),
        start_local=m["start_local"],
        end_local=m["end_local"],
        timezone=m["timezone"],
        blocklist_id=m["blocklist_id"],
        strictness=Strictness(m["strictness"]),
        enabled=m["enabled"],
        paused_until=m["paused_until"],
        version=m["version"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def schedule_row(schedule: Schedule) -> dict[str, Any]:
    """The row of a live schedule at its own version (the backfill writes it too)."""
    return {
        "user_id": schedule.user_id,
        "id": schedule.id,
        "name": schedule.name,
        "days": [d.value for d in schedule.days],
        "start_local": schedule.start_local,
        "end_local": schedule.end_local,
        "timezone": schedule.timezone,
        "blocklist_id": schedule.blocklist_id,
        "strictness": schedule.strictness.value,
        "enabled": schedule.enabled,
        "paused_until": schedule.paused_until,
        "version": schedule.version,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
    }


class PostgresScheduleRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._records = OwnedCollection(connection, _TABLE, to_schedule)

    async def get(self, user_id: str, schedule_id: UUID) -> Schedule | None:
        return await self._records.get(user_id, schedule_id)

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Schedule]:
        return await self._records.page(user_id, after=after, limit=limit)

    async def count(self, user_id: str) -> int:
        return await self._records.count(user_id)

    async def count_using_blocklist(self, user_id: str, blocklist_id: UUID) -> int:
        stmt = select(func.count()).where(
            col(ScheduleRow.user_id) == user_id,
            col(ScheduleRow.blocklist_id) == blocklist_id,
            _LIVE,
        )
        return int((await self._connection.execute(stmt)).scalar_one())

    async def save(self, schedule: Schedule) -> None:
        values = schedule_row(schedule)
        await self._records.upsert(values)

    async def delete(
        self, user_id: str, schedule_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        await self._records.soft_delete(user_id, schedule_id, version, deleted_at)
