"""AI results as a person's records: an id, a version (sync, ETags), dismissal as a tombstone,
a suggestion's window and the schedule accepting it created; one per feature, period and
dedupe key (a suggestion's days and window)

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add = op.add_column
    add("ai_insights", sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"),
                                 nullable=False))  # fmt: skip
    add("ai_insights", sa.Column("dedupe_key", sa.Text(), server_default="", nullable=False))
    add("ai_insights", sa.Column("days", sa.ARRAY(sa.Text()), nullable=True))
    add("ai_insights", sa.Column("start_local", sa.Time(), nullable=True))
    add("ai_insights", sa.Column("end_local", sa.Time(), nullable=True))
    add("ai_insights", sa.Column("accepted_schedule_id", sa.Uuid(), nullable=True))
    # Results made before this revision sync as the oldest of their person's records.
    add("ai_insights", sa.Column("version", sa.BigInteger(), server_default="0", nullable=False))
    add("ai_insights", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    add("ai_insights", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE ai_insights SET updated_at = created_at")
    op.alter_column("ai_insights", "updated_at", nullable=False)
    for column in ("id", "dedupe_key", "version"):
        op.alter_column("ai_insights", column, server_default=None)
    op.drop_constraint("ai_insights_pkey", "ai_insights", type_="primary")
    op.create_primary_key("ai_insights_pkey", "ai_insights", ["user_id", "id"])
    op.create_unique_constraint(
        "uq_ai_insights_period", "ai_insights", ["user_id", "feature", "period_start", "dedupe_key"]
    )
    op.create_index("ix_ai_insights_user_id_version", "ai_insights", ["user_id", "version"])
    op.create_check_constraint(
        "ck_ai_insights_window",
        "ai_insights",
        "(days IS NULL) = (start_local IS NULL) AND (days IS NULL) = (end_local IS NULL)",
    )


def downgrade() -> None:
    # Suggestions and tombstones have no place in the earlier shape: only weekly insights stay.
    op.execute("DELETE FROM ai_insights WHERE dedupe_key <> '' OR deleted_at IS NOT NULL")
    op.drop_constraint("ck_ai_insights_window", "ai_insights", type_="check")
    op.drop_index("ix_ai_insights_user_id_version", table_name="ai_insights")
    op.drop_constraint("uq_ai_insights_period", "ai_insights", type_="unique")
    op.drop_constraint("ai_insights_pkey", "ai_insights", type_="primary")
    op.create_primary_key("ai_insights_pkey", "ai_insights", ["user_id", "feature", "period_start"])
    for column in ("deleted_at", "updated_at", "version", "accepted_schedule_id", "end_local",
                   "start_local", "days", "dedupe_key", "id"):  # fmt: skip
        op.drop_column("ai_insights", column)
