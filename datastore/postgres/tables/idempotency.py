"""The `idempotency_keys` table: the stored first response of each (user, `Idempotency-Key`)
POST, replayed to retries; indexed by `created_at` for the hourly purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, LargeBinary, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, user_fk


class IdempotencyKeyRow(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: str = user_fk(primary_key=True)
    key: str = Field(sa_column=Column(Text, primary_key=True))
    fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    response_status: int = Field(sa_column=Column(Integer, nullable=False))
    response_headers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    response_body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = instant()
