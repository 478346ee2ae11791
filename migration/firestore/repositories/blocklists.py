"""`BlocklistRepository` on the legacy Firestore layout (`users/{uid}/blocklists`).

A record keeps the document it has (a legacy auto-id or its UUID); a delete leaves `deletedAt`.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.blocklists.model import Blocklist
from migration.firestore.layout import BLOCKLISTS
from migration.firestore.mapping import blocklists as mapping
from migration.firestore.repositories.common import Documents, mark_deleted, replace_fields
from migration.firestore.repositories.owned import page_by_id


class FirestoreBlocklistRepository:
    """A user's blocklists: at most 50 live ones, so reads map the whole subcollection (legacy
    auto-ids do not sort as the UUIDs they map to, so Firestore cannot page them by id)."""

    def __init__(self, documents: Documents) -> None:
        self._docs = documents

    async def _all(self, user_id: str) -> list[Blocklist]:
        return await self._docs.map_all(user_id, BLOCKLISTS, mapping.from_document)

    async def get(self, user_id: str, blocklist_id: UUID) -> Blocklist | None:
        return next((b for b in await self._all(user_id) if b.id == blocklist_id), None)

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Blocklist]:
        return page_by_id(await self._all(user_id), after, limit)

    async def count(self, user_id: str) -> int:
        return len(await self._all(user_id))

    async def save(self, blocklist: Blocklist) -> None:
        reference = await self._docs.reference_of(blocklist.user_id, BLOCKLISTS, blocklist.id)
        await replace_fields(reference, mapping.to_document(blocklist))

    async def delete(
        self, user_id: str, blocklist_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        reference = await self._docs.reference_of(user_id, BLOCKLISTS, blocklist_id)
        await mark_deleted(reference, version, deleted_at, updatedAt=deleted_at)
