"""The W3C traceparent of what wrote an outbox event or scheduled a task, so that the event's
fan-out and the task's run continue the same trace (app/tracing.py)

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: adding the column rewrites nothing, whatever the table's size.
    op.add_column("outbox_events", sa.Column("trace_context", sa.Text(), nullable=True))
    op.add_column("scheduled_tasks", sa.Column("trace_context", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("scheduled_tasks", "trace_context")
    op.drop_column("outbox_events", "trace_context")
