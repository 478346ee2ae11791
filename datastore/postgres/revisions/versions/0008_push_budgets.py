"""push budgets: each device's recent silent pushes and what a delayed push owes

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_budgets",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("installation_id", sa.Text(), nullable=False),
        sa.Column("recent_sends", postgresql.ARRAY(sa.DateTime(timezone=True)), nullable=False),
        sa.Column("pending_version", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "installation_id"),
    )


def downgrade() -> None:
    op.drop_table("push_budgets")
