"""What event consumers remember: events they handled, and messages they could not handle."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Index, Integer, LargeBinary, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, user_fk


class ProcessedEventRow(SQLModel, table=True):
    """One row per (subscription, event) handled: a redelivered event is recognised and acked."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_processed_at", "processed_at"),)

    subscription: str = Field(sa_column=Column(Text, primary_key=True))
    event_id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    user_id: str = user_fk()
    processed_at: datetime = instant()


class FailedMessageRow(SQLModel, table=True):
    """A message a consumer gave up on (poison), kept for `focus events replay`.

    System table: keyed by message, not by user, because a poison message may name no user
    (or one that does not exist). It holds the event as published: ids, no personal data.
    """

    __tablename__ = "failed_messages"
    __table_args__ = (
        Index(
            "ix_failed_messages_pending",
            "subscription",
            "id",
            postgresql_where=text("replayed_at IS NULL"),
        ),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    subscription: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    event_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    attributes: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    error: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    failed_at: datetime = instant()
    replayed_at: datetime | None = instant(nullable=True)
