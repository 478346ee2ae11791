"""A batch's rows: which are new, which a newer `_v` replaces, which are kept; and their writes.

A record already in Postgres, live or deleted, is kept: Postgres is written first (ADR 0012),
so its row is the newer one, unless the document carries a backend `_v` above the row's
version. A `users` row at version 0 holds no profile yet and receives the Firestore one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from migration.postgres.backfill.columnar import Statement, columnar
from migration.postgres.backfill.records import BackfillRecord
from migration.postgres.backfill.specs import RecordSpec
from migration.postgres.backfill.versions import numbered

# FOR NO KEY UPDATE, as the API's writers take it: FOR UPDATE would also wait on every open
# transaction holding a user's row FOR KEY SHARE (any insert referencing users, such as a
# consumer's processed_events row while its handler runs), and that handler may wait on us.
_LOCK_USERS = (
    "SELECT uid FROM users WHERE uid = ANY(CAST(%(uids)b AS text[])) ORDER BY uid FOR NO KEY UPDATE"
)
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


@dataclass(slots=True)
class Decision:
    new: list[BackfillRecord] = field(default_factory=list)
    newer: list[BackfillRecord] = field(default_factory=list)
    kept: int = 0


def lookups(spec: RecordSpec, records: Sequence[BackfillRecord], *, lock: bool) -> list[Statement]:
    """What `decide` needs read: the versions of the records' rows (under the users' row locks
    when the batch writes users: a user's row is also the counter other writers number from)."""
    if not records:
        return []
    statements: list[Statement] = []
    if lock and spec.is_users:
        statements.append(Statement(_LOCK_USERS, {"uids": sorted({r.user_id for r in records})}))
    keys = [spec.key_of(r.record) for r in records]
    params = {name: [key[i] for key in keys] for i, name in enumerate(spec.key)}
    statements.append(Statement(columnar(spec.table).existing, params, planned_each_time=True))
    return statements


def decide(
    spec: RecordSpec, records: Sequence[BackfillRecord], existing: Sequence[Any]
) -> Decision:
    """New rows, rows a newer `_v` replaces, and how many existing rows are kept; `existing`
    is what the last of `lookups` returned."""
    versions = {tuple(row[:-1]): row[-1] for row in existing}
    decision = Decision()
    for record in records:
        version = versions.get(spec.key_of(record.record))
        if version is None:
            decision.new.append(record)
        elif record.source_version > version or (spec.is_users and version == 0):
            # A users row at version 0 holds no profile yet (`ensure`, or another record's
            # first write made it): the legacy profile fills it.
            decision.newer.append(record)
        else:
            decision.kept += 1
    return decision


async def rows_to_insert(
    conn: AsyncConnection, spec: RecordSpec, decision: Decision
) -> list[dict[str, Any]]:
    """Numbers the records, replaces the rows a newer `_v` wins over, and returns the new rows
    (for `insert_new`: they go with the batch's last statements)."""
    if spec.is_users:
        await _fill_users(conn, spec, decision.newer)
        return [_new_user_row(spec, r) for r in decision.new]
    versions = await numbered(conn, [*decision.new, *decision.newer])
    for record in decision.newer:
        values = spec.row(record.record, versions[record.path], record.deleted_at)
        await conn.execute(_replace_statement(spec, values))
    return [spec.row(r.record, versions[r.path], r.deleted_at) for r in decision.new]


def insert_new(spec: RecordSpec, rows: Sequence[dict[str, Any]]) -> Statement:
    """Inserts the rows that do not exist by then (one written meanwhile by an API request is
    kept: ON CONFLICT DO NOTHING); its count is of the rows inserted."""
    return columnar(spec.table).insert(rows)


def _replace_statement(spec: RecordSpec, values: dict[str, Any]) -> Any:
    stmt = insert(spec.table).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=list(spec.key),
        set_={k: stmt.excluded[k] for k in values if k not in (*spec.key, "created_at")},
        where=spec.table.c.version < stmt.excluded.version,
    )


async def _fill_users(
    conn: AsyncConnection, spec: RecordSpec, records: Sequence[BackfillRecord]
) -> None:
    for record in records:
        values = spec.row(record.record, 0, None)
        del values["uid"], values["created_at"], values["version"]
        await conn.execute(
            _FILL_USER, {**values, "uid": record.user_id, "v": record.source_version}
        )


def _new_user_row(spec: RecordSpec, record: BackfillRecord) -> dict[str, Any]:
    """A user's row holds their counters too: a new one starts at its own version, and with
    no turn in the relay's queue yet (the backfill writes no events)."""
    version = record.source_version or 1
    return {**spec.row(record.record, version, None), "change_seq": version, "outbox_turn": None}
