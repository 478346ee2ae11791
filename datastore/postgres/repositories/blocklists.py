from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from datastore.postgres.tables.blocklists import BlocklistRow
from domain.blocklists.model import BlockItem, Blocklist, ItemKind

_TABLE: Table = BlocklistRow.__table__  # type: ignore[attr-defined]
_LIVE = col(BlocklistRow.deleted_at).is_(None)


def to_blocklist(row: Row[Any]) -> Blocklist:
    """The entity of a row (a tombstone's too: sync reads `row.deleted_at` beside it)."""
    return Blocklist(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        items=tuple(BlockItem(ItemKind(i["kind"]), i["value"]) for i in row.items),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class PostgresBlocklistRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, user_id: str, blocklist_id: UUID) -> Blocklist | None:
        stmt = select(_TABLE).where(
            col(BlocklistRow.user_id) == user_id, col(BlocklistRow.id) == blocklist_id, _LIVE
        )
        row = (await self._connection.execute(stmt)).one_or_none()
        return to_blocklist(row) if row else None

    async def list(self, user_id: str, *, after: UUID | None, limit: int) -> list[Blocklist]:
        stmt = select(_TABLE).where(col(BlocklistRow.user_id) == user_id, _LIVE)
        if after is not None:
            stmt = stmt.where(col(BlocklistRow.id) > after)
        stmt = stmt.order_by(col(BlocklistRow.id)).limit(limit)
        return [to_blocklist(r) for r in await self._connection.execute(stmt)]

    async def count(self, user_id: str) -> int:
        stmt = select(func.count()).where(col(BlocklistRow.user_id) == user_id, _LIVE)
        return int((await self._connection.execute(stmt)).scalar_one())

    async def save(self, blocklist: Blocklist) -> None:
        values: dict[str, Any] = {
            "user_id": blocklist.user_id,
            "id": blocklist.id,
            "name": blocklist.name,
            "items": [{"kind": i.kind.value, "value": i.value} for i in blocklist.items],
            "version": blocklist.version,
            "created_at": blocklist.created_at,
            "updated_at": blocklist.updated_at,
            "deleted_at": None,
        }
        stmt = insert(_TABLE).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "id"],
            set_={k: v for k, v in values.items() if k not in ("user_id", "id", "created_at")},
        )
        await self._connection.execute(stmt)

    async def delete(
        self, user_id: str, blocklist_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        stmt = (
            update(_TABLE)
            .where(col(BlocklistRow.user_id) == user_id, col(BlocklistRow.id) == blocklist_id)
            .values(deleted_at=deleted_at, updated_at=deleted_at, version=version)
        )
        await self._connection.execute(stmt)
