"""Per device: when its recent silent pushes went out, the version a delayed push owes, and the
highest version its push was settled for (a redelivered event skips the device)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import user_fk


class PushBudgetRow(SQLModel, table=True):
    __tablename__ = "push_budgets"

    user_id: str = user_fk(primary_key=True)
    installation_id: str = Field(sa_column=Column(Text, primary_key=True))
    recent_sends: list[datetime] = Field(
        sa_column=Column(ARRAY(DateTime(timezone=True)), nullable=False)
    )
    pending_version: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    settled_version: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
