"""What blocklists use cases need from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.blocklists.model import Blocklist


class BlocklistRepository(Protocol):
    """A user's blocklists. Reads see live ones only; a deleted one stays as a tombstone."""

    async def get(self, user_id: str, blocklist_id: UUID) -> Blocklist | None: ...
    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Blocklist]:
        """Up to `limit` live blocklists in id (creation) order, strictly after `after`."""
        ...

    async def count(self, user_id: str) -> int: ...
    async def save(self, blocklist: Blocklist) -> None:
        """Insert or replace, keyed by (user_id, id)."""
        ...

    async def delete(
        self, user_id: str, blocklist_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        """Soft-delete: the row stays as a tombstone carrying `version` for sync."""
        ...
