"""The `users` table, keyed by the Firebase uid: the profile, and the user's counters:
`change_seq`, from which every write of the user's data takes its version, and
`outbox_turn`, the turn of the user's last event in the relay's queue.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import BigInteger, Column, DateTime, Index, Text, Time
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import export_xid, instant


class UserRow(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_export_xid", "export_xid"),)

    uid: str = Field(sa_column=Column(Text, primary_key=True))
    display_name: str | None = Field(default=None, sa_column=Column(Text))
    timezone: str = Field(sa_column=Column(Text, nullable=False, server_default="UTC"))
    locale: str | None = Field(default=None, sa_column=Column(Text))
    daily_goal_minutes: int = Field(nullable=False, sa_column_kwargs={"server_default": "60"})
    notifications_enabled: bool = Field(nullable=False, sa_column_kwargs={"server_default": "true"})
    quiet_hours_start: time | None = Field(default=None, sa_column=Column(Time))
    quiet_hours_end: time | None = Field(default=None, sa_column=Column(Time))
    consent_ai_features: bool = Field(nullable=False, sa_column_kwargs={"server_default": "false"})
    consent_analytics: bool = Field(nullable=False, sa_column_kwargs={"server_default": "false"})
    # The user's change counter: every write of the user's data takes the next number.
    change_seq: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # The turn the user's last event took in the relay's queue (None: no event since it came
    # in); the next one's is one share later, or now (repositories/outbox.py, ADR 0026).
    outbox_turn: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    version: int = Field(sa_column=Column(BigInteger, nullable=False, server_default="0"))
    created_at: datetime = instant()
    updated_at: datetime = instant()
    export_xid: int | None = export_xid()
