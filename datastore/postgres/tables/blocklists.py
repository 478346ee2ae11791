"""Tables of the blocklists area."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, Column, Index, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant, tombstone, user_fk, version


class BlocklistRow(SQLModel, table=True):
    """The primary key (user_id, id) is also the listing index: keyset on id per user."""

    __tablename__ = "blocklists"
    __table_args__ = (
        CheckConstraint("jsonb_typeof(items) = 'array'", name="ck_blocklists_items_array"),
        Index("ix_blocklists_user_id_version", "user_id", "version"),
    )

    user_id: str = user_fk(primary_key=True)
    id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    # [{"kind": "web_domain", "value": "example.com"}, ...], normalised and de-duplicated.
    items: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    version: int = version()
    created_at: datetime = instant()
    updated_at: datetime = instant()
    deleted_at: datetime | None = tombstone()
