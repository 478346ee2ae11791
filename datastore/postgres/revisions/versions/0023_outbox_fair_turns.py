"""The outbox relay serves events by turn, not only as written: a user whose events queue up
takes one turn per `FAIR_SHARE`, so a burst of one user's events no longer holds back other
users' (datastore/postgres/repositories/outbox.py, docs/adr/0026-relay-turns.md)

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_PENDING = sa.text("published_at IS NULL")


def upgrade() -> None:
    # Nullable, no default: nothing rewritten. A user's first event after this takes now.
    op.add_column("users", sa.Column("outbox_turn", sa.DateTime(timezone=True), nullable=True))
    # A stable default (now() is evaluated once, by this statement) is kept in the catalogue:
    # adding the column rewrites nothing, whatever the table's size. Events already waiting
    # all take this moment as their turn, and go out as they were written.
    op.add_column(
        "outbox_events",
        sa.Column(
            "fair_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
    )
    # Built concurrently, outside the migration's transaction: a plain CREATE INDEX would hold
    # every write of the API (each one adds an event) for the scan of the whole table. The
    # queue's old index goes once the new one is there: one index on unpublished rows only.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_outbox_events_turn",
            "outbox_events",
            ["fair_at", "id"],
            postgresql_where=_PENDING,
            postgresql_concurrently=True,
        )
        op.drop_index(
            "ix_outbox_events_pending", table_name="outbox_events", postgresql_concurrently=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_outbox_events_pending",
            "outbox_events",
            ["id"],
            postgresql_where=_PENDING,
            postgresql_concurrently=True,
        )
        op.drop_index(
            "ix_outbox_events_turn", table_name="outbox_events", postgresql_concurrently=True
        )
    op.drop_column("outbox_events", "fair_at")
    op.drop_column("users", "outbox_turn")
