"""The transactional outbox: events written with their change, published by a relay later."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import export_xid, instant, user_fk


class OutboxEventRow(SQLModel, table=True):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_export_xid", "export_xid"),
        # The relay's queue: unpublished events by turn, then as written (UUIDv7 ids). The
        # only index on unpublished rows: statistics taken while nothing waits say "one row",
        # and with a second such index the planner took either, then sorted a backlog of
        # 100,000 on every claim (tests/integration/events/test_relay_turns.py).
        Index(
            "ix_outbox_events_turn",
            "fair_at",
            "id",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    user_id: str = user_fk()
    type: str = Field(sa_column=Column(Text, nullable=False))
    schema_version: int = Field(sa_column=Column(Integer, nullable=False))
    subject_id: str = Field(sa_column=Column(Text, nullable=False))
    record_version: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    origin_installation_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    trace_context: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The W3C traceparent of the request or job that wrote it (ids and flags, nothing else)."""
    occurred_at: datetime = instant()
    fair_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )
    """The event's turn in the relay's queue: when it was written, or one `FAIR_SHARE` after
    its user's last event, if that is later (repositories/outbox.py, ADR 0026)."""
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    export_xid: int | None = export_xid()
