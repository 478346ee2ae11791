from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from domain.blocklists.model import Blocklist


class FakeBlocklistRepository:
    """In-memory blocklists storage for unit tests."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, UUID], Blocklist] = {}
        self.tombstones: dict[tuple[str, UUID], tuple[Blocklist, datetime]] = {}

    async def get(self, user_id: str, blocklist_id: UUID) -> Blocklist | None:
        return self.rows.get((user_id, blocklist_id))

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Blocklist]:
        mine = sorted((b for (u, _), b in self.rows.items() if u == user_id), key=lambda b: b.id)
        return [b for b in mine if after is None or b.id > after][:limit]

    async def count(self, user_id: str) -> int:
        return sum(1 for u, _ in self.rows if u == user_id)

    async def save(self, blocklist: Blocklist) -> None:
        key = (blocklist.user_id, blocklist.id)
        self.rows[key] = blocklist
        self.tombstones.pop(key, None)

    async def delete(
        self, user_id: str, blocklist_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        gone = self.rows.pop((user_id, blocklist_id), None)
        if gone is not None:
            tombstone = replace(gone, version=version, updated_at=deleted_at)
            self.tombstones[(user_id, blocklist_id)] = (tombstone, deleted_at)
