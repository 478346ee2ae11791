"""`ScheduleRepository` on the legacy Firestore layout (`users/{uid}/schedules`), read whole
and paged in memory in the order Postgres pages them (by id).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.schedules.model import Schedule
from migration.firestore.layout import SCHEDULES
from migration.firestore.mapping import schedules as mapping
from migration.firestore.repositories.common import (
    Documents,
    lacks_timezone,
    mark_deleted,
    replace_fields,
)
from migration.firestore.repositories.owned import page_by_id


class FirestoreScheduleRepository:
    """A user's schedules: at most 50 live ones, read whole as blocklists are. A dangling
    `blocklist` is not checked here (the backfill and verify pass the user's blocklists)."""

    def __init__(self, documents: Documents) -> None:
        self._docs = documents

    async def _all(self, user_id: str) -> list[Schedule]:
        return await self._docs.map_all(user_id, SCHEDULES, mapping.from_document, lacks_timezone)

    async def get(self, user_id: str, schedule_id: UUID) -> Schedule | None:
        return next((s for s in await self._all(user_id) if s.id == schedule_id), None)

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Schedule]:
        return page_by_id(await self._all(user_id), after, limit)

    async def count(self, user_id: str) -> int:
        return len(await self._all(user_id))

    async def count_using_blocklist(self, user_id: str, blocklist_id: UUID) -> int:
        return sum(1 for s in await self._all(user_id) if s.blocklist_id == blocklist_id)

    async def save(self, schedule: Schedule) -> None:
        reference = await self._docs.reference_of(schedule.user_id, SCHEDULES, schedule.id)
        await replace_fields(reference, mapping.to_document(schedule, self._docs.client))

    async def delete(
        self, user_id: str, schedule_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        reference = await self._docs.reference_of(user_id, SCHEDULES, schedule_id)
        await mark_deleted(reference, version, deleted_at, updatedAt=deleted_at)
