"""The backfill's quarantine: unmappable documents kept by path, released once they map."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.tables.backfill import BackfillQuarantineRow
from domain.migration import Entity
from migration.postgres.backfill.columnar import Statement
from migration.postgres.backfill.records import QuarantinedDocument

_QUARANTINE: Table = BackfillQuarantineRow.__table__  # type: ignore[attr-defined]
_ANY = "SELECT 1 FROM backfill_quarantine WHERE entity = %(entity)s LIMIT 1"
_RELEASE = "DELETE FROM backfill_quarantine WHERE path = ANY(CAST(%(paths)b AS text[]))"


def any_of(entity: Entity) -> Statement:
    """Whether the entity has entries (from earlier runs, asked before this run adds any)."""
    return Statement(_ANY, {"entity": entity.value})


def released(paths: list[str]) -> Statement:
    """A document that maps now (fixed in Firestore, or in the mapping) leaves the quarantine."""
    return Statement(_RELEASE, {"paths": paths})


async def keep(
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
