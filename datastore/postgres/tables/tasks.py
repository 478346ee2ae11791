"""Delayed jobs of the embedded default: the Postgres task queue the in-process worker drains.

System table: keyed by task, not by user. Payloads carry ids, no personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, Column, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant

PENDING, DONE, DEAD = "pending", "done", "dead"


class ScheduledTaskRow(SQLModel, table=True):
    __tablename__ = "scheduled_tasks"
    __table_args__ = (
        # A name is taken while its row exists: pending, done (until purged) or dead.
        # NULLs are distinct, so unnamed tasks never collide.
        UniqueConstraint("name", name="uq_scheduled_tasks_name"),
        CheckConstraint("status IN ('pending', 'done', 'dead')", name="ck_scheduled_tasks_status"),
        # The workers' claim: pending tasks by due time.
        Index(
            "ix_scheduled_tasks_due", "run_at", "id", postgresql_where=text("status = 'pending'")
        ),
        # The purge: finished tasks by age.
        Index(
            "ix_scheduled_tasks_finished",
            "status",
            "finished_at",
            postgresql_where=text("finished_at IS NOT NULL"),
        ),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    status: str = Field(sa_column=Column(Text, nullable=False))
    run_at: datetime = instant()
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    """Runs that failed (a done task's last run is not counted)."""
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = instant()
    finished_at: datetime | None = instant(nullable=True)
    trace_context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The W3C traceparent of what scheduled it (ids and flags, nothing else)."""
