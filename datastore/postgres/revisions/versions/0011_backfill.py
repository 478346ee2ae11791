"""backfill: a checkpoint per entity, and the documents kept out of Postgres

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Spelled out, not imported: a migration keeps the values it was written with.
ENTITIES = "('users', 'devices', 'blocklists', 'schedules', 'focus_sessions', 'usage')"
REASONS = (
    "('orphan_of_deleted_user', 'missing_blocklist', 'dangling_blocklist', 'foreign_blocklist',"
    " 'wrong_type', 'missing_required', 'invalid_value', 'invalid_id')"
)
COUNTS = ("read", "inserted", "replaced", "kept", "erased")


def upgrade() -> None:
    op.create_table(
        "backfill_checkpoints",
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("last_path", sa.Text(), nullable=True),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS),
        sa.Column(
            "quarantined",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"entity IN {ENTITIES}", name="ck_backfill_checkpoints_entity"),
        sa.PrimaryKeyConstraint("entity"),
    )
    op.create_table(
        "backfill_quarantine",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"entity IN {ENTITIES}", name="ck_backfill_quarantine_entity"),
        sa.CheckConstraint(f"reason IN {REASONS}", name="ck_backfill_quarantine_reason"),
        sa.PrimaryKeyConstraint("path"),
    )
    op.create_index("ix_backfill_quarantine_uid", "backfill_quarantine", ["uid"])
    op.create_index(
        "ix_backfill_quarantine_entity_reason", "backfill_quarantine", ["entity", "reason"]
    )


def downgrade() -> None:
    op.drop_index("ix_backfill_quarantine_entity_reason", table_name="backfill_quarantine")
    op.drop_index("ix_backfill_quarantine_uid", table_name="backfill_quarantine")
    op.drop_table("backfill_quarantine")
    op.drop_table("backfill_checkpoints")
