"""push budgets remember the version each device was settled for

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A redelivered event skips the devices whose push for its version was already settled.
    op.add_column("push_budgets", sa.Column("settled_version", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("push_budgets", "settled_version")
