"""The backfill's own state: one checkpoint per entity, and the documents it kept out.

`backfill_checkpoints` is a system table, keyed by entity: the last document path written and
counts, committed with each batch's rows so that a killed run resumes without gaps or
duplicates. `backfill_quarantine` is keyed by document path and carries the uid: its uid may
have no `users` row (orphans, erased users), so it has no foreign key, and erasure deletes a
user's entries by uid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant
from datastore.postgres.tables.migration import one_of
from domain.migration import Entity

QUARANTINE_REASONS = (
    "orphan_of_deleted_user",
    "missing_blocklist",
    "dangling_blocklist",
    "foreign_blocklist",
    "wrong_type",
    "missing_required",
    "invalid_value",
    "invalid_id",
)
"""`QuarantineReason`'s values, spelled out: the Postgres adapter does not import Firestore's."""


def _count() -> Any:
    return Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))


class BackfillCheckpointRow(SQLModel, table=True):
    """Where an entity's backfill stands; `finished_at` set once it read the last document."""

    __tablename__ = "backfill_checkpoints"
    __table_args__ = (
        CheckConstraint(one_of("entity", Entity), name="ck_backfill_checkpoints_entity"),
    )

    entity: str = Field(sa_column=Column(Text, primary_key=True))
    last_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The full path of the last document handled: the next page starts after it."""
    read: int = _count()
    inserted: int = _count()
    replaced: int = _count()
    kept: int = _count()
    erased: int = _count()
    quarantined: dict[str, int] = Field(
        sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    """Documents kept out, by `QuarantineReason`."""
    started_at: datetime = instant()
    updated_at: datetime = instant()
    finished_at: datetime | None = instant(nullable=True)


class BackfillQuarantineRow(SQLModel, table=True):
    """A document the backfill could not map; upserted by path, so re-runs never duplicate."""

    __tablename__ = "backfill_quarantine"
    __table_args__ = (
        CheckConstraint(one_of("entity", Entity), name="ck_backfill_quarantine_entity"),
        CheckConstraint(
            f"reason IN ({', '.join(repr(r) for r in QUARANTINE_REASONS)})",
            name="ck_backfill_quarantine_reason",
        ),
        # Erasure: every entry of a uid.
        Index("ix_backfill_quarantine_uid", "uid"),
        Index("ix_backfill_quarantine_entity_reason", "entity", "reason"),
    )

    path: str = Field(sa_column=Column(Text, primary_key=True))
    entity: str = Field(sa_column=Column(Text, nullable=False))
    uid: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    field: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    document: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    """The raw fields, for a fix; none for an orphan (its user is gone)."""
    first_seen_at: datetime = instant()
    last_seen_at: datetime = instant()
