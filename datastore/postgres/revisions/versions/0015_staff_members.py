"""compliance staff and their roles

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ROLES = "ARRAY['viewer', 'operator', 'approver', 'admin']::text[]"


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            f"cardinality(roles) > 0 AND roles <@ {ROLES}", name="ck_staff_members_roles"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_staff_members_current_email",
        "staff_members",
        ["email"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_staff_members_current_email", table_name="staff_members")
    op.drop_table("staff_members")
