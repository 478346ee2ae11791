"""usage reports

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_reports",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("installation_id", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("total_minutes", sa.Integer(), nullable=False),
        sa.Column("pickups", sa.Integer(), nullable=False),
        sa.Column("minutes_per_category", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("top_apps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "total_minutes BETWEEN 0 AND 1440", name="ck_usage_reports_total_minutes"
        ),
        sa.CheckConstraint("pickups >= 0", name="ck_usage_reports_pickups"),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "installation_id", "date"),
    )
    op.create_index(
        "ix_usage_reports_user_id_date", "usage_reports", ["user_id", "date"], unique=False
    )
    op.create_index(
        "ix_usage_reports_user_id_version", "usage_reports", ["user_id", "version"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_usage_reports_user_id_version", table_name="usage_reports")
    op.drop_index("ix_usage_reports_user_id_date", table_name="usage_reports")
    op.drop_table("usage_reports")
