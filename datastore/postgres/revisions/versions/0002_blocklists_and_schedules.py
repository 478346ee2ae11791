"""blocklists and schedules

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocklists",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("jsonb_typeof(items) = 'array'", name="ck_blocklists_items_array"),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_index(
        "ix_blocklists_user_id_version", "blocklists", ["user_id", "version"], unique=False
    )
    op.create_table(
        "schedules",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("days", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("start_local", sa.Time(), nullable=False),
        sa.Column("end_local", sa.Time(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("blocklist_id", sa.Uuid(), nullable=False),
        sa.Column("strictness", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cardinality(days) BETWEEN 1 AND 7", name="ck_schedules_days"),
        sa.CheckConstraint("start_local <> end_local", name="ck_schedules_window"),
        sa.CheckConstraint("strictness IN ('normal', 'hard')", name="ck_schedules_strictness"),
        sa.ForeignKeyConstraint(
            ["user_id", "blocklist_id"],
            ["blocklists.user_id", "blocklists.id"],
            name="fk_schedules_blocklist",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "id"),
    )
    op.create_index(
        "ix_schedules_user_id_blocklist_id",
        "schedules",
        ["user_id", "blocklist_id"],
        unique=False,
    )
    op.create_index(
        "ix_schedules_user_id_version", "schedules", ["user_id", "version"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_schedules_user_id_version", table_name="schedules")
    op.drop_index("ix_schedules_user_id_blocklist_id", table_name="schedules")
    op.drop_table("schedules")
    op.drop_index("ix_blocklists_user_id_version", table_name="blocklists")
    op.drop_table("blocklists")
