"""What every per-user collection keyed by `(user_id, id)`, with soft deletes, shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Table, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


class OwnedCollection(Generic[T]):
    """get, list (keyset on the UUIDv7 id), count, upsert and soft delete of one table."""

    def __init__(
        self, connection: AsyncConnection, table: Table, to_entity: Callable[[Row[Any]], T]
    ) -> None:
        self._connection = connection
        self._table = table
        self._to_entity = to_entity

    def _mine(self, user_id: str) -> ColumnElement[bool]:
        return and_(self._table.c.user_id == user_id, self._table.c.deleted_at.is_(None))

    async def get(self, user_id: str, record_id: UUID) -> T | None:
        stmt = select(self._table).where(self._mine(user_id), self._table.c.id == record_id)
        row = (await self._connection.execute(stmt)).one_or_none()
        return self._to_entity(row) if row else None

    async def page(self, user_id: str, *, after: UUID | None, limit: int) -> list[T]:
        stmt = select(self._table).where(self._mine(user_id))
        if after is not None:
            stmt = stmt.where(self._table.c.id > after)
        stmt = stmt.order_by(self._table.c.id).limit(limit)
        return [self._to_entity(r) for r in await self._connection.execute(stmt)]

    async def count(self, user_id: str) -> int:
        stmt = select(func.count()).select_from(self._table).where(self._mine(user_id))
        return int((await self._connection.execute(stmt)).scalar_one())

    async def upsert(self, values: dict[str, Any]) -> None:
        """Insert, or replace a live or deleted row (a re-created record comes back to life)."""
        stmt = insert(self._table).values(**values, deleted_at=None)
        kept = ("user_id", "id", "created_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "id"],
            set_={k: v for k, v in {**values, "deleted_at": None}.items() if k not in kept},
        )
        await self._connection.execute(stmt)

    async def soft_delete(
        self, user_id: str, record_id: UUID, version: int, deleted_at: datetime
    ) -> None:
        stmt = (
            update(self._table)
            .where(self._table.c.user_id == user_id, self._table.c.id == record_id)
            .values(deleted_at=deleted_at, updated_at=deleted_at, version=version)
        )
        await self._connection.execute(stmt)
