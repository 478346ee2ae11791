"""migration phases: each entity's Firestore → Postgres phase, its audit trail, verify runs

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Spelled out, not imported: a migration keeps the values it was written with.
ENTITIES = "('users', 'devices', 'blocklists', 'schedules', 'focus_sessions', 'usage')"
PHASES = (
    "('firestore_only', 'dual_write_read_firestore', 'dual_write_read_postgres', 'postgres_only')"
)


def upgrade() -> None:
    op.create_table(
        "migration_phases",
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.CheckConstraint(f"entity IN {ENTITIES}", name="ck_migration_phases_entity"),
        sa.CheckConstraint(f"phase IN {PHASES}", name="ck_migration_phases_phase"),
        sa.PrimaryKeyConstraint("entity"),
    )
    op.create_table(
        "migration_phase_changes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("from_phase", sa.Text(), nullable=False),
        sa.Column("to_phase", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(f"entity IN {ENTITIES}", name="ck_migration_phase_changes_entity"),
        sa.CheckConstraint(f"from_phase IN {PHASES}", name="ck_migration_phase_changes_from"),
        sa.CheckConstraint(f"to_phase IN {PHASES}", name="ck_migration_phase_changes_to"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_migration_phase_changes_entity", "migration_phase_changes", ["entity", "changed_at"]
    )
    op.create_table(
        "migration_verifications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=True),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("different", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("examples", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(f"entity IN {ENTITIES}", name="ck_migration_verifications_entity"),
        sa.CheckConstraint("mode IN ('sample', 'full')", name="ck_migration_verifications_mode"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_migration_verifications_entity", "migration_verifications", ["entity", "finished_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_migration_verifications_entity", table_name="migration_verifications")
    op.drop_table("migration_verifications")
    op.drop_index("ix_migration_phase_changes_entity", table_name="migration_phase_changes")
    op.drop_table("migration_phase_changes")
    op.drop_table("migration_phases")
