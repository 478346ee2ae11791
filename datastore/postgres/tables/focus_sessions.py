"""Tables of the focus sessions area."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Column, Date, Index, Integer, Text, Uuid, text
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import export_xid, instant, tombstone, user_fk, version

# No foreign key to blocklists: a session keeps the id of the blocklist it ran with, as history,
# and the use case checks that a new session names one of the user's live blocklists.


class FocusSessionRow(SQLModel, table=True):
    __tablename__ = "focus_sessions"
    __table_args__ = (
        Index("ix_focus_sessions_export_xid", "export_xid"),
        CheckConstraint("mode IN ('normal', 'hard')", name="ck_focus_sessions_mode"),
        CheckConstraint("outcome IN ('completed', 'abandoned')", name="ck_focus_sessions_outcome"),
        CheckConstraint(
            "(ended_at IS NULL) = (outcome IS NULL)", name="ck_focus_sessions_ended_with_outcome"
        ),
        CheckConstraint("planned_duration_seconds > 0", name="ck_focus_sessions_planned_duration"),
        # The list, newest first, and its keyset cursor.
        Index(
            "ix_focus_sessions_user_id_started_at_id",
            "user_id",
            text("started_at DESC"),
            text("id DESC"),
        ),
        Index("ix_focus_sessions_user_id_version", "user_id", "version"),
        # Stats: completed focus per local day, answered from the index alone.
        Index(
            "ix_focus_sessions_completed_days",
            "user_id",
            "local_date",
            postgresql_include=["started_at", "ended_at"],
            postgresql_where=text("outcome = 'completed' AND deleted_at IS NULL"),
        ),
        # At most one running session per user, and the lookup of it.
        Index(
            "uq_focus_sessions_running",
            "user_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL AND deleted_at IS NULL"),
        ),
    )

    user_id: str = user_fk(primary_key=True)
    id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    blocklist_id: UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    mode: str = Field(sa_column=Column(Text, nullable=False))
    planned_duration_seconds: int = Field(sa_column=Column(Integer, nullable=False))
    started_at: datetime = instant()
    ended_at: datetime | None = instant(nullable=True)
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    timezone: str = Field(sa_column=Column(Text, nullable=False))
    local_date: date = Field(sa_column=Column(Date, nullable=False))
    version: int = version()
    created_at: datetime = instant()
    updated_at: datetime = instant()
    deleted_at: datetime | None = tombstone()
    export_xid: int | None = export_xid()
