"""The ledger of consents to AI features (domain/ai/consent.py): appended, never changed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, Column, Index, Integer, Text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, user_fk


class AiConsentRow(SQLModel, table=True):
    __tablename__ = "ai_consents"
    __table_args__ = (Index("ix_ai_consents_user_id_at", "user_id", "at"),)

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    user_id: str = user_fk()
    feature: str = Field(sa_column=Column(Text, nullable=False))
    provider: str = Field(sa_column=Column(Text, nullable=False))
    text_version: int = Field(sa_column=Column(Integer, nullable=False))
    granted: bool = Field(sa_column=Column(Boolean, nullable=False))
    at: datetime = instant()
