"""The Postgres side of the backfill: one transaction per batch of mapped Firestore documents.

Each batch's new rows, its quarantine entries and the entity's checkpoint commit together, so
a run killed at any point resumes after the last committed document, without gaps or
duplicates. A record already in Postgres, live or deleted, is kept: Postgres is written first
(ADR 0012), so its row is the newer one, unless the document carries a backend `_v` above the
row's version. New rows take their versions from the user's counter (`users.change_seq`), a
block of numbers per user in one statement, so versions only grow and sync cursors stay valid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import Column, Table, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datastore.postgres.tables.backfill import BackfillCheckpointRow, BackfillQuarantineRow
from datastore.postgres.tables.blocklists import BlocklistRow
from datastore.postgres.tables.devices import DeviceRow
from datastore.postgres.tables.focus_sessions import FocusSessionRow
from datastore.postgres.tables.schedules import ScheduleRow
from datastore.postgres.tables.usage import UsageReportRow
from datastore.postgres.tables.users import UserRow
from domain.blocklists.model import Blocklist
from domain.devices.model import Device
from domain.focus_sessions.model import FocusSession
from domain.migration import Entity
from domain.schedules.model import Schedule
from domain.usage.model import UsageReport
from domain.users.model import User

_CHECKPOINTS: Table = BackfillCheckpointRow.__table__  # type: ignore[attr-defined]
_QUARANTINE: Table = BackfillQuarantineRow.__table__  # type: ignore[attr-defined]
_BLOCKLISTS: Table = BlocklistRow.__table__  # type: ignore[attr-defined]

# Driver SQL (psycopg placeholders, binary arrays: see `_driver_rows`).

# The commit need not wait for the WAL flush: a batch's rows and its checkpoint commit together,
# so a server crash that loses the last batches loses their checkpoint too, and the next run
# writes them again (no gap, no duplicate). Waiting would cost a disk flush per batch.
_NO_FLUSH_WAIT = "SET LOCAL synchronous_commit = off"
_ERASED = "SELECT uid FROM erased_users WHERE uid = ANY(CAST(%(uids)b AS text[]))"
# A subcollection row needs its user's row (foreign key): created as `ensure` does.
_ENSURE_USERS = (
    "INSERT INTO users (uid, created_at, updated_at)"
    " SELECT uid, now(), now() FROM unnest(CAST(%(uids)b AS text[])) AS t(uid)"
    " ON CONFLICT (uid) DO NOTHING"
)
# A block of `n` numbers per user, above `floor` (a backend `_v` the batch keeps): the last one
# is returned. A user without a row gets one, numbered from 1 (in the same round trip); one
# created meanwhile by another transaction is in neither part (see `_numbered`).
_ENSURE_AND_ALLOCATE = (
    "WITH b AS (SELECT * FROM unnest(CAST(%(uids)b AS text[]), CAST(%(ns)b AS bigint[]),"
    " CAST(%(floors)b AS bigint[])) AS b(uid, n, floor)),"
    " created AS (INSERT INTO users (uid, change_seq, created_at, updated_at)"
    " SELECT uid, floor + n, now(), now() FROM b ON CONFLICT (uid) DO NOTHING"
    " RETURNING uid, change_seq),"
    " taken AS (UPDATE users AS u SET change_seq = GREATEST(u.change_seq, b.floor) + b.n"
    " FROM b WHERE u.uid = b.uid RETURNING u.uid, u.change_seq)"
    " SELECT uid, change_seq FROM created UNION ALL SELECT uid, change_seq FROM taken"
)
_ALLOCATE = (
    "UPDATE users AS u SET change_seq = GREATEST(u.change_seq, b.floor) + b.n"
    " FROM unnest(CAST(%(uids)b AS text[]), CAST(%(ns)b AS bigint[]),"
    " CAST(%(floors)b AS bigint[])) AS b(uid, n, floor)"
    " WHERE u.uid = b.uid RETURNING u.uid, u.change_seq"
)
_ANY_QUARANTINED = "SELECT 1 FROM backfill_quarantine WHERE entity = %(entity)s LIMIT 1"
_RELEASE = "DELETE FROM backfill_quarantine WHERE path = ANY(CAST(%(paths)b AS text[]))"
_LOCK_USERS = (
    "SELECT uid FROM users WHERE uid = ANY(CAST(%(uids)b AS text[])) ORDER BY uid FOR UPDATE"
)


@dataclass(frozen=True, slots=True)
class BackfillRecord:
    """A mapped document: the domain record, where it came from, and its backend `_v`."""

    path: str
    user_id: str
    record: Any
    """The entity's domain object (`User`, `Device`, …); its `version` is ignored."""
    source_version: int = 0
    """`_v` of a document the backend wrote; 0 for a legacy write (numbered here)."""
    deleted_at: datetime | None = None
    """Set for a backend tombstone (`deletedAt`): the row is written deleted."""


@dataclass(frozen=True, slots=True)
class QuarantinedDocument:
    path: str
    uid: str
    reason: str
    field: str | None = None
    document: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    entity: Entity
    last_path: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    read: int = 0
    inserted: int = 0
    replaced: int = 0
    kept: int = 0
    erased: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True, slots=True)
class Batch:
    """One page of documents: what mapped, what did not, and where the page ended."""

    last_path: str
    read: int
    records: Sequence[BackfillRecord]
    quarantined: Sequence[QuarantinedDocument]


@dataclass(slots=True)
class _Decision:
    new: list[BackfillRecord] = field(default_factory=list)
    newer: list[BackfillRecord] = field(default_factory=list)
    kept: int = 0


class PostgresBackfillStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._quarantined_before: dict[Entity, bool] = {}

    async def checkpoint(self, entity: Entity) -> Checkpoint | None:
        async with self._engine.connect() as conn:
            stmt = select(_CHECKPOINTS).where(_CHECKPOINTS.c.entity == entity.value)
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            return None
        return Checkpoint(
            entity=Entity(row.entity),
            last_path=row.last_path,
            started_at=row.started_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
            read=row.read,
            inserted=row.inserted,
            replaced=row.replaced,
            kept=row.kept,
            erased=row.erased,
            quarantined=Counter(row.quarantined),
        )

    async def restart(self, entity: Entity, now: datetime) -> Checkpoint:
        """A fresh checkpoint at the beginning (a first run, or a run after a finished one)."""
        fresh = Checkpoint(entity, None, started_at=now, updated_at=now)
        async with self._engine.begin() as conn:
            await _save_checkpoint(conn, fresh)
        return fresh

    async def finish(self, checkpoint: Checkpoint, now: datetime) -> Checkpoint:
        done = replace(checkpoint, finished_at=now, updated_at=now)
        async with self._engine.begin() as conn:
            await _save_checkpoint(conn, done)
        return done

    async def blocklist_ids(self, uids: Iterable[str]) -> dict[str, frozenset[UUID]]:
        """Every blocklist row of these users, live or deleted: what a schedule may point at."""
        wanted = sorted(set(uids))
        stmt = select(_BLOCKLISTS.c.user_id, _BLOCKLISTS.c.id).where(
            _BLOCKLISTS.c.user_id.in_(wanted)
        )
        found: dict[str, set[UUID]] = {uid: set() for uid in wanted}
        async with self._engine.connect() as conn:
            for user_id, blocklist_id in await conn.execute(stmt):
                found[user_id].add(blocklist_id)
        return {uid: frozenset(ids) for uid, ids in found.items()}

    async def write(self, checkpoint: Checkpoint, batch: Batch, now: datetime) -> Checkpoint:
        """Writes the batch and moves the checkpoint past it, in one transaction."""
        spec = SPECS[checkpoint.entity]
        async with self._engine.begin() as conn:
            await _driver_rows(conn, _NO_FLUSH_WAIT, {})
            erased = await _erased(conn, _uids(batch))
            records = [r for r in batch.records if r.user_id not in erased]
            quarantined = [q for q in batch.quarantined if q.uid not in erased]
            decision = await _decide(conn, spec, records, lock=True)
            inserted = await _write_rows(conn, spec, decision)
            await _quarantine(conn, checkpoint.entity, quarantined, now)
            if await self._had_quarantine(conn, checkpoint.entity):
                await _release(conn, [r.path for r in records])
            moved = _moved(checkpoint, batch, now, erased, quarantined)
            moved = replace(
                moved,
                inserted=moved.inserted + inserted,
                replaced=moved.replaced + len(decision.newer),
                kept=moved.kept + decision.kept + len(decision.new) - inserted,
            )
            await _save_checkpoint(conn, moved)
        return moved

    async def _had_quarantine(self, conn: AsyncConnection, entity: Entity) -> bool:
        """Whether entries from earlier runs may wait for release: asked once per entity (this
        run's own entries lie behind its checkpoint, so they are never released by it)."""
        if entity not in self._quarantined_before:
            found = await _driver_rows(conn, _ANY_QUARANTINED, {"entity": entity.value})
            self._quarantined_before[entity] = bool(found)
        return self._quarantined_before[entity]

    async def preview(self, checkpoint: Checkpoint, batch: Batch, now: datetime) -> Checkpoint:
        """What `write` would count, reading only (`--dry-run`)."""
        spec = SPECS[checkpoint.entity]
        async with self._engine.connect() as conn:
            erased = await _erased(conn, _uids(batch))
            records = [r for r in batch.records if r.user_id not in erased]
            quarantined = [q for q in batch.quarantined if q.uid not in erased]
            decision = await _decide(conn, spec, records, lock=False)
            await conn.rollback()
        moved = _moved(checkpoint, batch, now, erased, quarantined)
        return replace(
            moved,
            inserted=moved.inserted + len(decision.new),
            replaced=moved.replaced + len(decision.newer),
            kept=moved.kept + decision.kept,
        )


def _uids(batch: Batch) -> list[str]:
    return sorted({r.user_id for r in batch.records} | {q.uid for q in batch.quarantined})


async def _erased(conn: AsyncConnection, uids: list[str]) -> set[str]:
    if not uids:
        return set()
    return {uid for (uid,) in await _driver_rows(conn, _ERASED, {"uids": uids})}


def _moved(
    checkpoint: Checkpoint,
    batch: Batch,
    now: datetime,
    erased: set[str],
    quarantined: Sequence[QuarantinedDocument],
) -> Checkpoint:
    erased_docs = sum(r.user_id in erased for r in batch.records)
    erased_docs += sum(q.uid in erased for q in batch.quarantined)
    return replace(
        checkpoint,
        last_path=batch.last_path,
        updated_at=now,
        read=checkpoint.read + batch.read,
        erased=checkpoint.erased + erased_docs,
        quarantined=checkpoint.quarantined + Counter(q.reason for q in quarantined),
    )


async def _decide(
    conn: AsyncConnection, spec: RecordSpec, records: list[BackfillRecord], *, lock: bool
) -> _Decision:
    """New rows, rows a newer `_v` replaces, and how many existing rows are kept."""
    if lock and spec.is_users and records:
        # A user's row is also the counter other writers take numbers from: hold it.
        await _driver_rows(conn, _LOCK_USERS, {"uids": sorted({r.user_id for r in records})})
    existing = await _existing_versions(conn, spec, records)
    decision = _Decision()
    for record in records:
        version = existing.get(spec.key_of(record.record))
        if version is None:
            decision.new.append(record)
        elif record.source_version > version or (spec.is_users and version == 0):
            # A users row at version 0 holds no profile yet (`ensure`, or another record's
            # first write made it): the legacy profile fills it.
            decision.newer.append(record)
        else:
            decision.kept += 1
    return decision


async def _existing_versions(
    conn: AsyncConnection, spec: RecordSpec, records: list[BackfillRecord]
) -> dict[tuple[Any, ...], int]:
    if not records:
        return {}
    keys = [spec.key_of(r.record) for r in records]
    params = {name: [key[i] for key in keys] for i, name in enumerate(spec.key)}
    found = await _driver_rows(conn, _columnar(spec.table).existing, params)
    return {tuple(row[:-1]): row[-1] for row in found}


async def _write_rows(conn: AsyncConnection, spec: RecordSpec, decision: _Decision) -> int:
    """Inserts the new rows (a row written meanwhile is kept) and replaces the newer ones;
    returns how many were inserted."""
    if spec.is_users:
        return await _write_users(conn, spec, decision)
    numbered = await _numbered(conn, [*decision.new, *decision.newer])
    inserted = 0
    if decision.new:
        rows = [spec.row(r.record, numbered[r.path], r.deleted_at) for r in decision.new]
        inserted = await _insert_new(conn, spec.table, rows)
    for record in decision.newer:
        values = spec.row(record.record, numbered[record.path], record.deleted_at)
        await conn.execute(_replace_statement(spec, values))
    return inserted


# A batch travels as one array per column (`unnest`): one short statement, prepared once per
# table, instead of a placeholder per value (whose parsing cost more than the insert itself).


@dataclass(frozen=True, slots=True)
class _Columnar:
    columns: tuple[str, ...]
    arrays: tuple[str, ...]
    """Columns sent as Postgres array literals (text), cast back per row."""
    documents: tuple[str, ...]
    """JSONB columns."""
    existing: str
    insert_or_keep: str


_COLUMNAR: dict[str, _Columnar] = {}


def _columnar(table: Table) -> _Columnar:
    if table.name not in _COLUMNAR:
        _COLUMNAR[table.name] = _compile_columnar(table)
    return _COLUMNAR[table.name]


def _compile_columnar(table: Table) -> _Columnar:
    dialect = psycopg_dialect()  # type: ignore[no-untyped-call]
    types = {c.name: c.type.compile(dialect=dialect) for c in table.columns}
    arrays = tuple(name for name, sql_type in types.items() if sql_type.endswith("[]"))

    def unnest(names: Iterable[str]) -> str:
        typed = (f"CAST(%({n})b AS {'TEXT' if n in arrays else types[n]}[])" for n in names)
        return f"unnest({', '.join(typed)}) AS b({', '.join(names)})"

    key = [c.name for c in table.primary_key.columns]
    # Names from our own table definitions, never from input.
    existing = (
        f"SELECT {', '.join(f't.{k}' for k in key)}, t.version FROM {table.name} AS t"  # noqa: S608
        f" JOIN {unnest(key)} USING ({', '.join(key)})"
    )
    # Every column: the rows spell each one out (a server default is never wanted here).
    columns = tuple(c.name for c in table.columns)
    selected = (f"CAST({n} AS {types[n]})" if n in arrays else n for n in columns)
    insert = (
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608
        f" SELECT {', '.join(selected)} FROM {unnest(columns)}"
    )
    documents = tuple(name for name, sql_type in types.items() if sql_type == "JSONB")
    return _Columnar(
        columns, arrays, documents, existing, f"{insert} ON CONFLICT DO NOTHING RETURNING 1"
    )


async def _driver(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    raw = await conn.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    return driver


async def _driver_rows(conn: AsyncConnection, sql: str, params: dict[str, Any]) -> list[Any]:
    """psycopg itself, on the transaction's connection, with binary parameters: arrays of a
    batch's values then need no quoting or parsing (the text format's cost)."""
    driver = await _driver(conn)
    async with driver.cursor(binary=True) as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchall() if cursor.description else []


async def _insert_new(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Inserts the rows that do not exist by then (one written meanwhile by an API request is
    kept: ON CONFLICT DO NOTHING); returns how many were inserted."""
    shape = _columnar(table)
    params = {name: _column(shape, name, rows) for name in shape.columns}
    return len(await _driver_rows(conn, shape.insert_or_keep, params))


def _column(shape: _Columnar, name: str, rows: list[dict[str, Any]]) -> list[Any]:
    values = [row[name] for row in rows]
    if name in shape.arrays:
        return [None if v is None else "{" + ",".join(map(_array_item, v)) + "}" for v in values]
    if name in shape.documents:
        return [None if v is None else Jsonb(v) for v in values]
    return values


def _array_item(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


async def _numbered(conn: AsyncConnection, records: list[BackfillRecord]) -> dict[str, int]:
    """Each record's version: its `_v` when it has one, else the next of its user's numbers."""
    if not records:
        return {}
    needed: Counter[str] = Counter(r.user_id for r in records if r.source_version == 0)
    floors: dict[str, int] = {}
    for r in records:
        floors[r.user_id] = max(floors.get(r.user_id, 0), r.source_version)
    uids = sorted(floors)
    params = {"uids": uids, "ns": [needed[u] for u in uids], "floors": [floors[u] for u in uids]}
    last: dict[str, int] = dict(await _driver_rows(conn, _ENSURE_AND_ALLOCATE, params))
    if len(last) < len(uids):  # a row another transaction created meanwhile: now visible
        await _driver_rows(conn, _ENSURE_USERS, {"uids": uids})
        rest = [u for u in uids if u not in last]
        params = {
            "uids": rest,
            "ns": [needed[u] for u in rest],
            "floors": [floors[u] for u in rest],
        }
        last.update(dict(await _driver_rows(conn, _ALLOCATE, params)))
    next_number = {uid: last[uid] - needed[uid] + 1 for uid in uids}
    versions: dict[str, int] = {}
    for r in records:
        if r.source_version:
            versions[r.path] = r.source_version
        else:
            versions[r.path] = next_number[r.user_id]
            next_number[r.user_id] += 1
    return versions


def _replace_statement(spec: RecordSpec, values: dict[str, Any]) -> Any:
    stmt = insert(spec.table).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=list(spec.key),
        set_={k: stmt.excluded[k] for k in values if k not in (*spec.key, "created_at")},
        where=spec.table.c.version < stmt.excluded.version,
    )


async def _write_users(conn: AsyncConnection, spec: RecordSpec, decision: _Decision) -> int:
    """A user's row is its counter too: a new one starts at its own version."""
    inserted = 0
    if decision.new:
        rows = [_new_user_row(spec, r) for r in decision.new]
        inserted = await _insert_new(conn, spec.table, rows)
    for record in decision.newer:
        values = spec.row(record.record, 0, None)
        del values["uid"], values["created_at"], values["version"]
        await conn.execute(
            _FILL_USER, {**values, "uid": record.user_id, "v": record.source_version}
        )
    return inserted


def _new_user_row(spec: RecordSpec, record: BackfillRecord) -> dict[str, Any]:
    version = record.source_version or 1
    return {**spec.row(record.record, version, None), "change_seq": version}


# The profile, and a version above every number the user's counter gave out (or `_v`).
_FILL_USER = text(
    "UPDATE users SET display_name = :display_name, timezone = :timezone, locale = :locale,"
    " daily_goal_minutes = :daily_goal_minutes,"
    " notifications_enabled = :notifications_enabled,"
    " quiet_hours_start = :quiet_hours_start, quiet_hours_end = :quiet_hours_end,"
    " consent_ai_features = :consent_ai_features, consent_analytics = :consent_analytics,"
    " updated_at = :updated_at,"
    " version = GREATEST(change_seq + CASE WHEN :v = 0 THEN 1 ELSE 0 END, :v),"
    " change_seq = GREATEST(change_seq + CASE WHEN :v = 0 THEN 1 ELSE 0 END, :v)"
    " WHERE uid = :uid AND (version = 0 OR version < :v)"
)


async def _quarantine(
    conn: AsyncConnection, entity: Entity, documents: Sequence[QuarantinedDocument], now: datetime
) -> None:
    if not documents:
        return
    stmt = insert(_QUARANTINE)
    stmt = stmt.on_conflict_do_update(
        index_elements=["path"],
        set_={
            name: stmt.excluded[name]
            for name in ("entity", "uid", "reason", "field", "document", "last_seen_at")
        },
    )
    rows = [
        {
            "path": doc.path,
            "entity": entity.value,
            "uid": doc.uid,
            "reason": doc.reason,
            "field": doc.field,
            "document": doc.document,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for doc in documents
    ]
    await conn.execute(stmt, rows)


async def _release(conn: AsyncConnection, paths: list[str]) -> None:
    """A document that maps now (fixed in Firestore, or in the mapping) leaves the quarantine."""
    if paths:
        await _driver_rows(conn, _RELEASE, {"paths": paths})


async def _save_checkpoint(conn: AsyncConnection, checkpoint: Checkpoint) -> None:
    values: dict[str, Any] = {
        "entity": checkpoint.entity.value,
        "last_path": checkpoint.last_path,
        "read": checkpoint.read,
        "inserted": checkpoint.inserted,
        "replaced": checkpoint.replaced,
        "kept": checkpoint.kept,
        "erased": checkpoint.erased,
        "quarantined": Jsonb(dict(checkpoint.quarantined)),
        "started_at": checkpoint.started_at,
        "updated_at": checkpoint.updated_at,
        "finished_at": checkpoint.finished_at,
    }
    await _driver_rows(conn, _SAVE_CHECKPOINT, values)


_CHECKPOINT_COLUMNS = [
    "entity",
    "last_path",
    "read",
    "inserted",
    "replaced",
    "kept",
    "erased",
    "quarantined",
    "started_at",
    "updated_at",
    "finished_at",
]
_SAVE_CHECKPOINT = (
    f"INSERT INTO backfill_checkpoints ({', '.join(_CHECKPOINT_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(f'%({c})s' for c in _CHECKPOINT_COLUMNS)})"
    " ON CONFLICT (entity) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _CHECKPOINT_COLUMNS[1:])
)


# Each entity's table, key and row, as its repository writes them.

RowOf = Callable[[Any, int, datetime | None], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class RecordSpec:
    table: Table
    key: tuple[str, ...]
    row: RowOf
    """The row of a record at a version; deleted at the instant given (None: live)."""

    @property
    def is_users(self) -> bool:
        return self.table.name == "users"

    @property
    def key_columns(self) -> list[Column[Any]]:
        return [self.table.c[name] for name in self.key]

    def key_of(self, record: Any) -> tuple[Any, ...]:
        return tuple(getattr(record, name) for name in self.key)


def _user_row(user: User, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    quiet = user.notifications.quiet_hours
    return {
        "uid": user.uid,
        "display_name": user.display_name,
        "timezone": user.timezone,
        "locale": user.locale,
        "daily_goal_minutes": user.daily_goal_minutes,
        "notifications_enabled": user.notifications.enabled,
        "quiet_hours_start": quiet.start if quiet else None,
        "quiet_hours_end": quiet.end if quiet else None,
        "consent_ai_features": user.consents.ai_features,
        "consent_analytics": user.consents.analytics,
        "version": version,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def _device_row(device: Device, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    return {
        "user_id": device.user_id,
        "installation_id": device.installation_id,
        "platform": device.platform.value,
        # A deleted device keeps no token, as `PostgresDeviceRepository.delete` leaves it.
        "push_token": None if deleted_at else device.push_token,
        "apns_environment": device.apns_environment.value if device.apns_environment else None,
        "app_version": device.app_version,
        "os_version": device.os_version,
        "timezone": device.timezone,
        "last_seen_at": device.last_seen_at,
        "version": version,
        "created_at": device.created_at,
        "updated_at": device.updated_at,
        "deleted_at": deleted_at,
    }


def _blocklist_row(
    blocklist: Blocklist, version: int, deleted_at: datetime | None
) -> dict[str, Any]:
    return {
        "user_id": blocklist.user_id,
        "id": blocklist.id,
        "name": blocklist.name,
        "items": [{"kind": i.kind.value, "value": i.value} for i in blocklist.items],
        "version": version,
        "created_at": blocklist.created_at,
        "updated_at": blocklist.updated_at,
        "deleted_at": deleted_at,
    }


def _schedule_row(schedule: Schedule, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    return {
        "user_id": schedule.user_id,
        "id": schedule.id,
        "name": schedule.name,
        "days": [d.value for d in schedule.days],
        "start_local": schedule.start_local,
        "end_local": schedule.end_local,
        "timezone": schedule.timezone,
        "blocklist_id": schedule.blocklist_id,
        "strictness": schedule.strictness.value,
        "enabled": schedule.enabled,
        "paused_until": schedule.paused_until,
        "version": version,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
        "deleted_at": deleted_at,
    }


def _session_row(
    session: FocusSession, version: int, deleted_at: datetime | None
) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "blocklist_id": session.blocklist_id,
        "mode": session.mode.value,
        "planned_duration_seconds": session.planned_duration_seconds,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "outcome": session.outcome.value if session.outcome else None,
        "timezone": session.timezone,
        "local_date": session.local_date,
        "version": version,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "deleted_at": deleted_at,
    }


def _usage_row(report: UsageReport, version: int, deleted_at: datetime | None) -> dict[str, Any]:
    """Usage has no tombstones: a report is replaced, never deleted."""
    return {
        "user_id": report.user_id,
        "installation_id": report.installation_id,
        "date": report.date,
        "total_minutes": report.total_minutes,
        "pickups": report.pickups,
        "minutes_per_category": {str(k): v for k, v in report.minutes_per_category.items()},
        "top_apps": [{"token": a.token, "minutes": a.minutes} for a in report.top_apps],
        "version": version,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }


def _table(row: Any) -> Table:
    table: Table = row.__table__
    return table


SPECS: dict[Entity, RecordSpec] = {
    Entity.USERS: RecordSpec(_table(UserRow), ("uid",), _user_row),
    Entity.DEVICES: RecordSpec(_table(DeviceRow), ("user_id", "installation_id"), _device_row),
    Entity.BLOCKLISTS: RecordSpec(_table(BlocklistRow), ("user_id", "id"), _blocklist_row),
    Entity.SCHEDULES: RecordSpec(_table(ScheduleRow), ("user_id", "id"), _schedule_row),
    Entity.FOCUS_SESSIONS: RecordSpec(_table(FocusSessionRow), ("id",), _session_row),
    Entity.USAGE: RecordSpec(
        _table(UsageReportRow), ("user_id", "installation_id", "date"), _usage_row
    ),
}
