"""The `devices` table: one row per app installation of a user, with its push target.

Indexed by push token too: a token belongs to one device of one user, wherever it was seen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import export_xid, instant, tombstone, user_fk, version


class DeviceRow(SQLModel, table=True):
    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_export_xid", "export_xid"),
        CheckConstraint("platform IN ('ios', 'android')", name="ck_devices_platform"),
        Index("ix_devices_user_id_version", "user_id", "version"),
        Index("ix_devices_push_token", "push_token"),
    )

    user_id: str = user_fk(primary_key=True)
    installation_id: str = Field(sa_column=Column(Text, primary_key=True))
    platform: str = Field(sa_column=Column(Text, nullable=False))
    push_token: str | None = Field(default=None, sa_column=Column(Text))
    apns_environment: str | None = Field(default=None, sa_column=Column(Text))
    app_version: str = Field(sa_column=Column(Text, nullable=False))
    os_version: str | None = Field(default=None, sa_column=Column(Text))
    timezone: str | None = Field(default=None, sa_column=Column(Text))
    last_seen_at: datetime = instant()
    version: int = version()
    created_at: datetime = instant()
    updated_at: datetime = instant()
    deleted_at: datetime | None = tombstone()
    export_xid: int | None = export_xid()
