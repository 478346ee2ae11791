"""the audit trail searched by staff member and by action

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_privacy_audit_actor_seq", "privacy_audit", ["actor", "seq"])
    op.create_index("ix_privacy_audit_action_seq", "privacy_audit", ["action", "seq"])


def downgrade() -> None:
    op.drop_index("ix_privacy_audit_action_seq", table_name="privacy_audit")
    op.drop_index("ix_privacy_audit_actor_seq", table_name="privacy_audit")
