"""What `focus migrate verify` reads from Postgres, tombstones included, and the writes its
repair needs beyond the repositories.

The repositories answer the API: live rows of one user. Verify needs every row of many users
(deleted ones too, as Firestore keeps tombstones), a random sample of keys, the erased uids,
and, to repair, a version above a document's and a row's `created_at` (upserts keep the first
one). Each entity's table, row mapping and key columns are its binding's
(`migration/entities.py`), as is a session's tombstone (the focus-session port has no delete).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table, exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.tables.mirrors import ErasedUserRow
from domain.migration import Entity
from migration.entities import BINDINGS


def _table(row: type[Any]) -> Table:
    table: Table = row.__table__
    return table


_ERASED = _table(ErasedUserRow)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row as verify sees it: the owner, the record's key within the owner, the entity
    (a tombstone's too) and whether it is deleted."""

    user_id: str
    key: str
    record: Any
    deleted: bool


def _owner(entity: Entity) -> Any:
    binding = BINDINGS[entity]
    return binding.table.c[binding.key.owner]


def _stored(entity: Entity, row: Row[Any]) -> StoredRow:
    binding = BINDINGS[entity]
    record = binding.to_record(row)
    deleted = getattr(row, "deleted_at", None) is not None
    return StoredRow(binding.owner_of(row), binding.key_of(record), record, deleted)


async def erased_uids(conn: AsyncConnection) -> frozenset[str]:
    """Every erased uid. Held in memory for a run: a list of ids, small beside the data."""
    return frozenset((await conn.execute(select(_ERASED.c.uid))).scalars())


async def user_ids_after(
    conn: AsyncConnection, entity: Entity, after: str | None, limit: int
) -> list[str]:
    """The next `limit` distinct owners of the entity's rows, keyset-paged on the key's index."""
    owner = _owner(entity)
    query = select(owner).distinct().order_by(owner).limit(limit)
    if after is not None:
        query = query.where(owner > after)
    return [str(uid) for uid in (await conn.execute(query)).scalars()]


async def rows_of(conn: AsyncConnection, entity: Entity, uids: Sequence[str]) -> list[StoredRow]:
    """Every row of these users, tombstones included."""
    if not uids:
        return []
    query = select(BINDINGS[entity].table).where(_owner(entity).in_(list(uids)))
    return [_stored(entity, row) for row in await conn.execute(query)]


async def row_at(conn: AsyncConnection, entity: Entity, uid: str, key: str) -> StoredRow | None:
    binding = BINDINGS[entity]
    query = select(binding.table).where(_owner(entity) == uid, *binding.where(key))
    row = (await conn.execute(query)).first()
    return None if row is None else _stored(entity, row)


async def random_keys(
    conn: AsyncConnection, entity: Entity, size: int, seed: float | None
) -> list[tuple[str, str]]:
    """`size` rows drawn uniformly (`ORDER BY random()`: a full scan, every row equally likely),
    erased users left out. A `seed` in [-1, 1] makes the draw repeatable on unchanged data."""
    binding = BINDINGS[entity]
    if seed is not None:
        await conn.execute(select(func.setseed(seed)))
    erased = exists().where(_ERASED.c.uid == _owner(entity))
    query = select(binding.table).where(~erased).order_by(func.random()).limit(size)
    rows = await conn.execute(query)
    return [(binding.owner_of(row), binding.key_of(binding.to_record(row))) for row in rows]


_BUMP_COUNTER_ABOVE = text(
    "UPDATE users SET change_seq = greatest(change_seq, :floor) + 1 WHERE uid = :uid"
    " RETURNING change_seq"
)


async def next_version_above(conn: AsyncConnection, uid: str, floor: int) -> int | None:
    """The user's next version, made greater than `floor` too (a document's `_v` the counter
    has not reached: the repair's write must be newer than both stores); None when Postgres
    has no such user."""
    params = {"uid": uid, "floor": floor}
    return (await conn.execute(_BUMP_COUNTER_ABOVE, params)).scalar_one_or_none()


async def restore_row(
    conn: AsyncConnection, entity: Entity, uid: str, key: str, created_at: dt.datetime
) -> None:
    """After a repository save: the source's `created_at` (upserts keep the row's first one)
    and, where the table has tombstones, the row alive again."""
    binding = BINDINGS[entity]
    table = binding.table
    values: dict[str, Any] = {"created_at": created_at}
    if "deleted_at" in table.c:
        values["deleted_at"] = None
    where = [_owner(entity) == uid, *binding.where(key)]
    await conn.execute(update(table).where(*where).values(values))
