"""focus sessions

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "focus_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("blocklist_id", sa.Uuid(), nullable=True),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("planned_duration_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("mode IN ('normal', 'hard')", name="ck_focus_sessions_mode"),
        sa.CheckConstraint(
            "outcome IN ('completed', 'abandoned')", name="ck_focus_sessions_outcome"
        ),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (outcome IS NULL)", name="ck_focus_sessions_ended_with_outcome"
        ),
        sa.CheckConstraint(
            "planned_duration_seconds > 0", name="ck_focus_sessions_planned_duration"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_focus_sessions_user_id_started_at_id",
        "focus_sessions",
        ["user_id", sa.text("started_at DESC"), sa.text("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_focus_sessions_user_id_version", "focus_sessions", ["user_id", "version"], unique=False
    )
    op.create_index(
        "ix_focus_sessions_completed_days",
        "focus_sessions",
        ["user_id", "local_date"],
        unique=False,
        postgresql_include=["started_at", "ended_at"],
        postgresql_where=sa.text("outcome = 'completed' AND deleted_at IS NULL"),
    )
    op.create_index(
        "uq_focus_sessions_running",
        "focus_sessions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL AND deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_focus_sessions_running", table_name="focus_sessions")
    op.drop_index("ix_focus_sessions_completed_days", table_name="focus_sessions")
    op.drop_index("ix_focus_sessions_user_id_version", table_name="focus_sessions")
    op.drop_index("ix_focus_sessions_user_id_started_at_id", table_name="focus_sessions")
    op.drop_table("focus_sessions")
