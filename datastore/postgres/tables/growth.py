"""The growth exports' tables (ADR 0020): each user's pseudonym secret, the pseudonyms of
erased users still to be compacted out of published files, and the export runs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, user_fk


class AnalyticsKeyRow(SQLModel, table=True):
    """A user's secret: pseudonym = HMAC-SHA256(secret, uid), record keys HMAC-SHA256(secret,
    record id). Goes with the user (erasure destroys it: crypto-shredding); a trigger then
    copies the pseudonym to growth_forget."""

    __tablename__ = "analytics_keys"

    user_id: str = user_fk(primary_key=True)
    secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    pseudonym: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    created_at: datetime = instant()
    inner_pad: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    outer_pad: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The secret XOR HMAC's ipad and opad (RFC 2104): the database computes record keys as
    sha256(outer_pad || sha256(inner_pad || id)), equal to HMAC-SHA256(secret, id)."""


class GrowthForgetRow(SQLModel, table=True):
    """Pseudonyms of erased users (no uid: nothing links them to anyone) whose rows compaction
    still has to remove from published files."""

    __tablename__ = "growth_forget"

    pseudonym: str = Field(sa_column=Column(Text, primary_key=True))
    forgotten_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    )


class GrowthRunRow(SQLModel, table=True):
    """One export of one dataset's window [lower, upper) of transaction ids."""

    __tablename__ = "growth_runs"
    __table_args__ = (
        CheckConstraint("state IN ('writing', 'published')", name="ck_growth_runs_state"),
        CheckConstraint("lower_xid < upper_xid", name="ck_growth_runs_window"),
        # One run at a time per dataset; the latest published one is the watermark.
        Index(
            "uq_growth_runs_writing",
            "dataset",
            unique=True,
            postgresql_where=text("state = 'writing'"),
        ),
        Index("ix_growth_runs_dataset_upper", "dataset", "upper_xid"),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    dataset: str = Field(sa_column=Column(Text, nullable=False))
    contract_version: int = Field(sa_column=Column(Integer, nullable=False))
    lower_xid: int = Field(sa_column=Column(BigInteger, nullable=False))
    upper_xid: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))
    started_at: datetime = instant()
    published_at: datetime | None = instant(nullable=True)
    rows: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    files: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    manifest: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
