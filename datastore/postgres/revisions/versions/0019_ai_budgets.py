"""AI features' budgets: results per person and period, tokens per provider and day

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_result_counts",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("feature", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.CheckConstraint("taken >= 0", name="ck_ai_result_counts_taken"),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "feature", "period_start"),
    )
    op.create_table(
        "ai_token_spend",
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("tokens >= 0", name="ck_ai_token_spend_tokens"),
        sa.PrimaryKeyConstraint("provider", "day"),
    )


def downgrade() -> None:
    op.drop_table("ai_token_spend")
    op.drop_table("ai_result_counts")
