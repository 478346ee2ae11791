"""Tables of the usage area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import export_xid, instant, user_fk, version


class UsageReportRow(SQLModel, table=True):
    """One device's screen time for one local calendar day; a new report replaces it."""

    __tablename__ = "usage_reports"
    __table_args__ = (
        Index("ix_usage_reports_export_xid", "export_xid"),
        CheckConstraint("total_minutes BETWEEN 0 AND 1440", name="ck_usage_reports_total_minutes"),
        CheckConstraint("pickups >= 0", name="ck_usage_reports_pickups"),
        Index("ix_usage_reports_user_id_version", "user_id", "version"),
        Index("ix_usage_reports_user_id_date", "user_id", "date"),
    )

    user_id: str = user_fk(primary_key=True)
    installation_id: str = Field(sa_column=Column(Text, primary_key=True))
    date: dt.date = Field(sa_column=Column(Date, primary_key=True))
    total_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    pickups: int = Field(sa_column=Column(Integer, nullable=False))
    # {"social": 42, ...}: categories from domain.usage.model.UsageCategory
    minutes_per_category: dict[str, int] = Field(sa_column=Column(JSONB, nullable=False))
    # [{"token": "...", "minutes": 30}, ...], most minutes first
    top_apps: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    version: int = version()
    created_at: dt.datetime = instant()
    updated_at: dt.datetime = instant()
    export_xid: int | None = export_xid()
