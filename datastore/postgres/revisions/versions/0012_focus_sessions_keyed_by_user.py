"""focus sessions keyed by (user_id, id): another user's session id is just an unused id

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every read is scoped to the user already; a primary key on the id alone made an id that
    # another user holds refuse a start (409), which told the caller that the id exists.
    op.drop_constraint("focus_sessions_pkey", "focus_sessions", type_="primary")
    op.create_primary_key("focus_sessions_pkey", "focus_sessions", ["user_id", "id"])


def downgrade() -> None:
    op.drop_constraint("focus_sessions_pkey", "focus_sessions", type_="primary")
    op.create_primary_key("focus_sessions_pkey", "focus_sessions", ["id"])
