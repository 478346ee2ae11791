"""The Firestore → Postgres migration: each entity's phase, its changes, and verify runs.

System tables: keyed by entity (`users`, `devices`, …), not by user. They hold no personal
data: phases, operator names, counts, and record ids as examples of divergence.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, CheckConstraint, Column, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant
from domain.migration import Entity, Phase, VerificationMode


def one_of(column: str, values: type[StrEnum]) -> str:
    """`column IN ('a', 'b')`: the values the domain knows (a new one needs a migration)."""
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class MigrationPhaseRow(SQLModel, table=True):
    """The phase every instance follows; an entity without a row is in `firestore_only`."""

    __tablename__ = "migration_phases"
    __table_args__ = (
        CheckConstraint(one_of("entity", Entity), name="ck_migration_phases_entity"),
        CheckConstraint(one_of("phase", Phase), name="ck_migration_phases_phase"),
    )

    entity: str = Field(sa_column=Column(Text, primary_key=True))
    phase: str = Field(sa_column=Column(Text, nullable=False))
    changed_at: datetime = instant()
    changed_by: str = Field(sa_column=Column(Text, nullable=False))


class MigrationPhaseChangeRow(SQLModel, table=True):
    """The audit trail: every change, who made it, whether a skip was forced, and why."""

    __tablename__ = "migration_phase_changes"
    __table_args__ = (
        CheckConstraint(one_of("entity", Entity), name="ck_migration_phase_changes_entity"),
        CheckConstraint(one_of("from_phase", Phase), name="ck_migration_phase_changes_from"),
        CheckConstraint(one_of("to_phase", Phase), name="ck_migration_phase_changes_to"),
        # `focus migrate status` and history: an entity's changes, newest first.
        Index("ix_migration_phase_changes_entity", "entity", "changed_at"),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    entity: str = Field(sa_column=Column(Text, nullable=False))
    from_phase: str = Field(sa_column=Column(Text, nullable=False))
    to_phase: str = Field(sa_column=Column(Text, nullable=False))
    changed_at: datetime = instant()
    changed_by: str = Field(sa_column=Column(Text, nullable=False))
    forced: bool = Field(sa_column=Column(Boolean, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MigrationVerificationRow(SQLModel, table=True):
    """One verify run of one entity; the guardrail reads the newest one."""

    __tablename__ = "migration_verifications"
    __table_args__ = (
        CheckConstraint(one_of("entity", Entity), name="ck_migration_verifications_entity"),
        CheckConstraint(one_of("mode", VerificationMode), name="ck_migration_verifications_mode"),
        Index("ix_migration_verifications_entity", "entity", "finished_at"),
    )

    id: UUID = Field(sa_column=Column(PgUUID(as_uuid=True), primary_key=True))
    entity: str = Field(sa_column=Column(Text, nullable=False))
    started_at: datetime = instant()
    finished_at: datetime = instant()
    mode: str = Field(sa_column=Column(Text, nullable=False))
    sample_size: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    missing: int = Field(sa_column=Column(Integer, nullable=False))
    extra: int = Field(sa_column=Column(Integer, nullable=False))
    different: int = Field(sa_column=Column(Integer, nullable=False))
    passed: bool = Field(sa_column=Column(Boolean, nullable=False))
    examples: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    """`{"missing": [id, ...], "extra": [...], "different": [...]}`: ids only."""
