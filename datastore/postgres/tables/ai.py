"""What AI features have spent (results per person, feature and period; tokens per provider
and day: domain/ai/budgets.py) and the results themselves (domain/ai/insights.py)."""

from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, tombstone, user_fk, version


class AiResultCountRow(SQLModel, table=True):
    __tablename__ = "ai_result_counts"
    __table_args__ = (CheckConstraint("taken >= 0", name="ck_ai_result_counts_taken"),)

    user_id: str = user_fk(primary_key=True)
    feature: str = Field(sa_column=Column(Text, primary_key=True))
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    taken: int = Field(sa_column=Column(Integer, nullable=False))


class AiTokenSpendRow(SQLModel, table=True):
    __tablename__ = "ai_token_spend"
    __table_args__ = (CheckConstraint("tokens >= 0", name="ck_ai_token_spend_tokens"),)

    provider: str = Field(sa_column=Column(Text, primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    tokens: int = Field(sa_column=Column(BigInteger, nullable=False))


class AiInsightRow(SQLModel, table=True):
    """A person's AI result (domain/ai/insights.py): one per feature, period and dedupe key
    (a suggestion's days and window), whatever the redeliveries; a dismissed one stays as a
    tombstone, so it is never made again and sync can tell the devices."""

    __tablename__ = "ai_insights"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "feature", "period_start", "dedupe_key", name="uq_ai_insights_period"
        ),
        Index("ix_ai_insights_user_id_version", "user_id", "version"),
        CheckConstraint(
            "(days IS NULL) = (start_local IS NULL) AND (days IS NULL) = (end_local IS NULL)",
            name="ck_ai_insights_window",
        ),
    )

    user_id: str = user_fk(primary_key=True)
    id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    feature: str = Field(sa_column=Column(Text, nullable=False))
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    dedupe_key: str = Field(sa_column=Column(Text, nullable=False))
    provider: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    numbers: list[int] = Field(sa_column=Column(ARRAY(Integer), nullable=False))
    # A schedule suggestion's window (days as in schedules: "mon", ...); NULL for an insight.
    days: list[str] | None = Field(default=None, sa_column=Column(ARRAY(Text), nullable=True))
    start_local: time | None = Field(default=None, sa_column=Column(Time, nullable=True))
    end_local: time | None = Field(default=None, sa_column=Column(Time, nullable=True))
    accepted_schedule_id: UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    version: int = version()
    created_at: datetime = instant()
    updated_at: datetime = instant()
    deleted_at: datetime | None = tombstone()
