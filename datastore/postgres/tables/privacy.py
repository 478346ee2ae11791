"""Data-subject requests: each request and its clock, its steps (one per store and kind of data),
and the append-only, hash-chained audit trail of every action (no personal data in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant

OPEN_STATES = "('received', 'verified', 'approved', 'running')"


class PrivacyRequestRow(SQLModel, table=True):
    __tablename__ = "privacy_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('export', 'erasure')", name="ck_privacy_requests_kind"),
        CheckConstraint(
            "state IN ('received', 'verified', 'approved', 'running', 'completed', 'refused',"
            " 'cancelled')",
            name="ck_privacy_requests_state",
        ),
        # One open request per subject and kind: a duplicate joins it, even when two arrive
        # at once.
        Index(
            "uq_privacy_requests_open",
            "subject_hash",
            "kind",
            unique=True,
            postgresql_where=text(f"state IN {OPEN_STATES}"),
        ),
        Index("ix_privacy_requests_received_at", "received_at"),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    subject_uid: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Kept until an erasure completes; only `subject_hash` afterwards."""
    subject_hash: str = Field(sa_column=Column(Text, nullable=False))
    channel: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = instant()
    created_by: str = Field(sa_column=Column(Text, nullable=False))
    verification: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONB, nullable=True)
    )
    approved_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    paused_seconds: int = Field(sa_column=Column(BigInteger, nullable=False))
    extensions: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    finished_at: datetime | None = instant(nullable=True)
    version: int = Field(sa_column=Column(Integer, nullable=False))


class PrivacyStepRow(SQLModel, table=True):
    __tablename__ = "privacy_steps"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'done')", name="ck_privacy_steps_state"),
    )

    request_id: UUID = Field(
        sa_column=Column(
            PgUUID(as_uuid=True),
            ForeignKey("privacy_requests.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    position: int = Field(sa_column=Column(Integer, primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    count: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    done_at: datetime | None = instant(nullable=True)


class PrivacyAuditRow(SQLModel, table=True):
    """Appended, never changed: each row's hash covers its content and the previous row's
    hash, so an edited or removed row breaks the chain (`focus privacy audit-check`)."""

    __tablename__ = "privacy_audit"
    __table_args__ = (
        Index("ix_privacy_audit_request_id", "request_id"),
        # The console's audit search: by staff member or action, newest first.
        Index("ix_privacy_audit_actor_seq", "actor", "seq"),
        Index("ix_privacy_audit_action_seq", "action", "seq"),
    )

    seq: int = Field(sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    at: datetime = instant()
    actor: str = Field(sa_column=Column(Text, nullable=False))
    action: str = Field(sa_column=Column(Text, nullable=False))
    request_id: UUID | None = Field(
        default=None, sa_column=Column(PgUUID(as_uuid=True), nullable=True)
    )
    subject_hash: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    categories: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    exemption: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    prev_hash: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(sa_column=Column(Text, nullable=False))
