"""What `focus migrate verify` reads from Postgres, tombstones included, and the two writes its
repair needs beyond the repositories.

The repositories answer the API: live rows of one user. Verify needs every row of many users
(deleted ones too, as Firestore keeps tombstones), a random sample of keys, the erased uids,
and, to repair, a row's `created_at` (upserts keep the first one) and a session's tombstone
(the focus-session port has no delete).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Table, exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.repositories.blocklists import to_blocklist
from datastore.postgres.repositories.devices import to_device
from datastore.postgres.repositories.focus_sessions import to_focus_session
from datastore.postgres.repositories.schedules import to_schedule
from datastore.postgres.repositories.usage import to_usage_report
from datastore.postgres.repositories.users import to_user
from datastore.postgres.tables import table_of
from datastore.postgres.tables.mirrors import ErasedUserRow
from domain.migration import Entity


def _table(row: type[Any]) -> Table:
    table: Table = row.__table__
    return table


_ERASED = _table(ErasedUserRow)
_TO_RECORD: dict[Entity, Callable[[Row[Any]], Any]] = {
    Entity.USERS: to_user,
    Entity.DEVICES: to_device,
    Entity.BLOCKLISTS: to_blocklist,
    Entity.SCHEDULES: to_schedule,
    Entity.FOCUS_SESSIONS: to_focus_session,
    Entity.USAGE: to_usage_report,
}
_TABLES: dict[Entity, tuple[Table, Callable[[Row[Any]], Any]]] = {
    entity: (table_of(entity), to_record) for entity, to_record in _TO_RECORD.items()
}


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One row as verify sees it: the owner, the record's key within the owner, the entity
    (a tombstone's too) and whether it is deleted."""

    user_id: str
    key: str
    record: Any
    deleted: bool


def record_key(entity: Entity, record: Any) -> str:
    """The record's key within its user, as `migration.verify` names records: `` for the user
    itself, the installation id, the UUID, or `yyyy-mm-dd/<installationId>` (usage)."""
    match entity:
        case Entity.USERS:
            return ""
        case Entity.DEVICES:
            return str(record.installation_id)
        case Entity.USAGE:
            return f"{record.date.isoformat()}/{record.installation_id}"
        case _:
            return str(record.id)


def _owner(entity: Entity) -> Any:
    table, _ = _TABLES[entity]
    return table.c.uid if entity is Entity.USERS else table.c.user_id


def _at_key(entity: Entity, key: str) -> list[ColumnElement[bool]]:
    table, _ = _TABLES[entity]
    match entity:
        case Entity.USERS:
            return []
        case Entity.DEVICES:
            return [table.c.installation_id == key]
        case Entity.USAGE:
            day, installation_id = key.split("/", 1)
            return [
                table.c.date == dt.date.fromisoformat(day),
                table.c.installation_id == installation_id,
            ]
        case _:
            return [table.c.id == UUID(key)]


def _stored(entity: Entity, row: Row[Any]) -> StoredRow:
    _, to_record = _TABLES[entity]
    record = to_record(row)
    deleted = getattr(row, "deleted_at", None) is not None
    return StoredRow(_owner_value(entity, row), record_key(entity, record), record, deleted)


def _owner_value(entity: Entity, row: Row[Any]) -> str:
    return str(row.uid if entity is Entity.USERS else row.user_id)


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
    table, _ = _TABLES[entity]
    query = select(table).where(_owner(entity).in_(list(uids)))
    return [_stored(entity, row) for row in await conn.execute(query)]


async def row_at(conn: AsyncConnection, entity: Entity, uid: str, key: str) -> StoredRow | None:
    table, _ = _TABLES[entity]
    query = select(table).where(_owner(entity) == uid, *_at_key(entity, key))
    row = (await conn.execute(query)).first()
    return None if row is None else _stored(entity, row)


async def random_keys(
    conn: AsyncConnection, entity: Entity, size: int, seed: float | None
) -> list[tuple[str, str]]:
    """`size` rows drawn uniformly (`ORDER BY random()`: a full scan, every row equally likely),
    erased users left out. A `seed` in [-1, 1] makes the draw repeatable on unchanged data."""
    table, to_record = _TABLES[entity]
    if seed is not None:
        await conn.execute(select(func.setseed(seed)))
    erased = exists().where(_ERASED.c.uid == _owner(entity))
    query = select(table).where(~erased).order_by(func.random()).limit(size)
    rows = await conn.execute(query)
    return [(_owner_value(entity, row), record_key(entity, to_record(row))) for row in rows]


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
    table, _ = _TABLES[entity]
    values: dict[str, Any] = {"created_at": created_at}
    if "deleted_at" in table.c:
        values["deleted_at"] = None
    where = [_owner(entity) == uid, *_at_key(entity, key)]
    await conn.execute(update(table).where(*where).values(values))


async def delete_session(
    conn: AsyncConnection, uid: str, session_id: UUID, version: int, at: dt.datetime
) -> None:
    """A session's tombstone, as the other owned records are deleted."""
    table, _ = _TABLES[Entity.FOCUS_SESSIONS]
    where = [table.c.user_id == uid, table.c.id == session_id]
    await conn.execute(
        update(table).where(*where).values(deleted_at=at, updated_at=at, version=version)
    )
