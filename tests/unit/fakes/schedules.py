from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from domain.schedules.model import Schedule


class FakeScheduleRepository:
    """In-memory schedules storage for unit tests."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, UUID], Schedule] = {}
        self.tombstones: dict[tuple[str, UUID], tuple[Schedule, datetime]] = {}

    async def get(self, user_id: str, schedule_id: UUID) -> Schedule | None:
        return self.rows.get((user_id, schedule_id))

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Schedule]:
        mine = sorted((s for (u, _), s in self.rows.items() if u == user_id), key=lambda s: s.id)
        return [s for s in mine if after is None or s.id > after][:limit]

    async def count(self, user_id: str) -> int:
        return sum(1 for u, _ in self.rows if u == user_id)

    async def count_using_blocklist(self, user_id: str, blocklist_id: UUID) -> int:
        return sum(
            1 for (u, _), s in self.rows.items() if u == user_id and s.blocklist_id == blocklist_id
        )

    async def save(self, schedule: Schedule) -> None:
        key = (schedule.user_id, schedule.id)
        self.rows[key] = schedule
        self.tombstones.pop(key, None)

    async def delete(
        self, user_id: str, schedule_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        gone = self.rows.pop((user_id, schedule_id), None)
        if gone is not None:
            tombstone = replace(gone, version=version, updated_at=deleted_at)
            self.tombstones[(user_id, schedule_id)] = (tombstone, deleted_at)
