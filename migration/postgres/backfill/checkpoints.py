"""The backfill's checkpoints: one row per entity, saved with each batch's rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.tables.backfill import BackfillCheckpointRow
from domain.migration import Entity
from migration.postgres.backfill.columnar import Statement
from migration.postgres.backfill.records import Batch, Checkpoint, QuarantinedDocument

_CHECKPOINTS: Table = BackfillCheckpointRow.__table__  # type: ignore[attr-defined]
_COLUMNS = [
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
_SAVE = (
    f"INSERT INTO backfill_checkpoints ({', '.join(_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join(f'%({c})s' for c in _COLUMNS)})"
    " ON CONFLICT (entity) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:])
)


async def load(conn: AsyncConnection, entity: Entity) -> Checkpoint | None:
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


def saved(checkpoint: Checkpoint) -> Statement:
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
    return Statement(_SAVE, values)


def moved(
    checkpoint: Checkpoint,
    batch: Batch,
    now: datetime,
    erased: set[str],
    quarantined: Sequence[QuarantinedDocument],
) -> Checkpoint:
    """Past the batch: its reads, its erased users' documents and its quarantined ones counted
    (the rows' counts are added by the caller, once written)."""
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
