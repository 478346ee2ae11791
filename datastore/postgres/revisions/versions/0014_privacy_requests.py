"""data-subject requests, their steps and the hash-chained audit trail

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OPEN_STATES = "('received', 'verified', 'approved', 'running')"


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("subject_uid", sa.Text(), nullable=True),
        sa.Column("subject_hash", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("verification", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("paused_seconds", sa.BigInteger(), nullable=False),
        sa.Column("extensions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('export', 'erasure')", name="ck_privacy_requests_kind"),
        sa.CheckConstraint(
            "state IN ('received', 'verified', 'approved', 'running', 'completed', 'refused',"
            " 'cancelled')",
            name="ck_privacy_requests_state",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_privacy_requests_open",
        "privacy_requests",
        ["subject_hash", "kind"],
        unique=True,
        postgresql_where=sa.text(f"state IN {OPEN_STATES}"),
    )
    op.create_index("ix_privacy_requests_received_at", "privacy_requests", ["received_at"])
    op.create_table(
        "privacy_steps",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'done')", name="ck_privacy_steps_state"),
        sa.ForeignKeyConstraint(["request_id"], ["privacy_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "position"),
    )
    op.create_table(
        "privacy_audit",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("subject_hash", sa.Text(), nullable=True),
        sa.Column("categories", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("exemption", sa.Text(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_privacy_audit_request_id", "privacy_audit", ["request_id"])
    # Append-only: the trail refuses updates and deletes, whoever asks.
    op.execute(
        "CREATE FUNCTION privacy_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'privacy_audit is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER privacy_audit_append_only BEFORE UPDATE OR DELETE ON privacy_audit"
        " FOR EACH ROW EXECUTE FUNCTION privacy_audit_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER privacy_audit_append_only ON privacy_audit")
    op.execute("DROP FUNCTION privacy_audit_append_only()")
    op.drop_index("ix_privacy_audit_request_id", table_name="privacy_audit")
    op.drop_table("privacy_audit")
    op.drop_table("privacy_steps")
    op.drop_index("ix_privacy_requests_received_at", table_name="privacy_requests")
    op.drop_index("uq_privacy_requests_open", table_name="privacy_requests")
    op.drop_table("privacy_requests")
