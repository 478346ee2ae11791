"""Dual writes: the Firestore documents owed by committed writes, and the erased users.

`pending_mirrors` rows are written in the transaction of the write they mirror, so a write
Postgres acknowledged always leaves either its Firestore document or a row that will write it
(ADR 0012). `erased_users` is the tombstone list that sync, backfill and repair consult so
that an erased user's data never comes back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, user_fk
from datastore.postgres.tables.migration import one_of
from domain.migration import Entity


class PendingMirrorRow(SQLModel, table=True):
    """One Firestore document a committed write owes; deleted once Firestore has it (or newer)."""

    __tablename__ = "pending_mirrors"
    __table_args__ = (
        CheckConstraint(one_of("entity", Entity), name="ck_pending_mirrors_entity"),
        # Read-your-writes and the flush after commit: a user's rows of one entity.
        Index("ix_pending_mirrors_user_id_entity", "user_id", "entity"),
        # The repair loop: the rows due, oldest first.
        Index("ix_pending_mirrors_due_at", "due_at"),
    )

    id: int = Field(sa_column=Column(BigInteger, Identity(), primary_key=True))
    user_id: str = user_fk()
    entity: str = Field(sa_column=Column(Text, nullable=False))
    record_key: str = Field(sa_column=Column(Text, nullable=False))
    """The record's id within the user: a UUID, an installation id, `day_installation` (usage),
    or the uid itself (the user's profile)."""
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    """The fields to set, encoded as `functions.legacy_change` encodes Firestore values."""
    created_at: datetime = instant()
    due_at: datetime = instant()
    attempts: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class LegacySyncPositionRow(SQLModel, table=True):
    """Per legacy document, the Firestore `update_time` of the last change the sync applied.

    Firestore assigns `update_time` at commit, per document, and it only grows: a message not
    newer than the position is a duplicate or arrived out of order, and is dropped. This is the
    store's own version of the document, not a device clock.
    """

    __tablename__ = "legacy_sync_positions"

    user_id: str = user_fk(primary_key=True)
    path: str = Field(sa_column=Column(Text, primary_key=True))
    """The document's path below the user: `schedules/abc`, or `` for `users/{uid}` itself."""
    update_time: str = Field(sa_column=Column(Text, nullable=False))
    """RFC 3339 in UTC with 9 fractional digits: fixed width, so text order is time order."""


class ErasedUserRow(SQLModel, table=True):
    """A user erased for good: nothing of theirs is written again, from any source."""

    __tablename__ = "erased_users"

    uid: str = Field(sa_column=Column(Text, primary_key=True))
    erased_at: datetime = instant()
