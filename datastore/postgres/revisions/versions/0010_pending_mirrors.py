"""dual writes: Firestore documents owed by committed writes; legacy sync positions;
erased users' tombstones

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ENTITIES = "('users', 'devices', 'blocklists', 'schedules', 'focus_sessions', 'usage')"


def upgrade() -> None:
    op.create_table(
        "pending_mirrors",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(f"entity IN {ENTITIES}", name="ck_pending_mirrors_entity"),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pending_mirrors_user_id_entity", "pending_mirrors", ["user_id", "entity"])
    op.create_index("ix_pending_mirrors_due_at", "pending_mirrors", ["due_at"])
    op.create_table(
        "legacy_sync_positions",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("update_time", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "path"),
    )
    op.create_table(
        "erased_users",
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uid"),
    )


def downgrade() -> None:
    op.drop_table("erased_users")
    op.drop_table("legacy_sync_positions")
    op.drop_index("ix_pending_mirrors_due_at", table_name="pending_mirrors")
    op.drop_index("ix_pending_mirrors_user_id_entity", table_name="pending_mirrors")
    op.drop_table("pending_mirrors")
