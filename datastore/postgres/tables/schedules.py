"""Tables of the schedules area."""

from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import export_xid, instant, tombstone, user_fk, version


class ScheduleRow(SQLModel, table=True):
    """The primary key (user_id, id) is also the listing index: keyset on id per user."""

    __tablename__ = "schedules"
    __table_args__ = (
        Index("ix_schedules_export_xid", "export_xid"),
        # Composite, so that a schedule can only ever point at its own user's blocklist.
        ForeignKeyConstraint(
            ["user_id", "blocklist_id"],
            ["blocklists.user_id", "blocklists.id"],
            name="fk_schedules_blocklist",
            ondelete="CASCADE",
        ),
        CheckConstraint("strictness IN ('normal', 'hard')", name="ck_schedules_strictness"),
        CheckConstraint("start_local <> end_local", name="ck_schedules_window"),
        CheckConstraint("cardinality(days) BETWEEN 1 AND 7", name="ck_schedules_days"),
        Index("ix_schedules_user_id_version", "user_id", "version"),
        Index("ix_schedules_user_id_blocklist_id", "user_id", "blocklist_id"),
    )

    user_id: str = user_fk(primary_key=True)
    id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    days: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    start_local: time = Field(sa_column=Column(Time, nullable=False))
    end_local: time = Field(sa_column=Column(Time, nullable=False))
    timezone: str = Field(sa_column=Column(Text, nullable=False))
    blocklist_id: UUID = Field(sa_column=Column(Uuid, nullable=False))
    strictness: str = Field(sa_column=Column(Text, nullable=False))
    enabled: bool = Field(sa_column=Column(Boolean, nullable=False))
    paused_until: datetime | None = instant(nullable=True)
    version: int = version()
    created_at: datetime = instant()
    updated_at: datetime = instant()
    deleted_at: datetime | None = tombstone()
    export_xid: int | None = export_xid()
