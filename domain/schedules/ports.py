"""What schedules use cases need from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.schedules.model import Schedule


class ScheduleRepository(Protocol):
    """A user's schedules. Reads see live ones only; a deleted one stays as a tombstone."""

    async def get(self, user_id: str, schedule_id: UUID) -> Schedule | None: ...
    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Schedule]:
        """Up to `limit` live schedules in id (creation) order, strictly after `after`."""
        ...

    async def count(self, user_id: str) -> int: ...
    async def count_using_blocklist(self, user_id: str, blocklist_id: UUID) -> int:
        """Live schedules that enforce this blocklist."""
        ...

    async def save(self, schedule: Schedule) -> None:
        """Insert or replace, keyed by (user_id, id)."""
        ...

    async def delete(
        self, user_id: str, schedule_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        """Soft-delete: the row stays as a tombstone carrying `version` for sync."""
        ...
