"""What AI features have spent (results per person, feature and period; tokens per provider
and day: domain/ai/budgets.py) and the results themselves (domain/ai/insights.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, user_fk


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
    """A person's AI result for a feature and period: one, whatever the redeliveries."""

    __tablename__ = "ai_insights"

    user_id: str = user_fk(primary_key=True)
    feature: str = Field(sa_column=Column(Text, primary_key=True))
    period_start: date = Field(sa_column=Column(Date, primary_key=True))
    provider: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    numbers: list[int] = Field(sa_column=Column(ARRAY(Integer), nullable=False))
    created_at: datetime = instant()
