"""growth exports: pseudonym secrets, the forget list, runs, and the commit-order column

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Which writes move a row's export_xid: all of them, except where a column changes often and
# means nothing to the exports (a device's last_seen_at, the user's change counter).
TRACKED: dict[str, str] = {
    "users": "INSERT OR UPDATE OF timezone, locale, daily_goal_minutes,"
    " consent_ai_features, consent_analytics",
    "devices": "INSERT OR UPDATE OF platform, app_version, os_version, deleted_at",
    "focus_sessions": "INSERT OR UPDATE",
    "schedules": "INSERT OR UPDATE",
    "usage_reports": "INSERT OR UPDATE",
    "outbox_events": "INSERT",
}


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION set_export_xid() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN NEW.export_xid := pg_current_xact_id()::text::bigint; RETURN NEW; END $$"
    )
    for table, events in TRACKED.items():
        op.add_column(table, sa.Column("export_xid", sa.BigInteger(), nullable=True))
        op.create_index(f"ix_{table}_export_xid", table, ["export_xid"])
        op.execute(
            f"CREATE TRIGGER {table}_export_xid BEFORE {events} ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION set_export_xid()"
        )
    op.create_table(
        "analytics_keys",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("pseudonym", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.uid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("pseudonym"),
    )
    op.create_table(
        "growth_forget",
        sa.Column("pseudonym", sa.Text(), nullable=False),
        sa.Column(
            "forgotten_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("pseudonym"),
    )
    # Erasure deletes the key (with the user): its pseudonym joins the forget list.
    op.execute(
        "CREATE FUNCTION forget_pseudonym() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO growth_forget (pseudonym) VALUES (OLD.pseudonym)"
        " ON CONFLICT DO NOTHING; RETURN OLD; END $$"
    )
    op.execute(
        "CREATE TRIGGER analytics_keys_forget AFTER DELETE ON analytics_keys"
        " FOR EACH ROW EXECUTE FUNCTION forget_pseudonym()"
    )
    op.create_table(
        "growth_runs",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("contract_version", sa.Integer(), nullable=False),
        sa.Column("lower_xid", sa.BigInteger(), nullable=False),
        sa.Column("upper_xid", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=True),
        sa.Column("manifest", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('writing', 'published')", name="ck_growth_runs_state"),
        sa.CheckConstraint("lower_xid < upper_xid", name="ck_growth_runs_window"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_growth_runs_writing",
        "growth_runs",
        ["dataset"],
        unique=True,
        postgresql_where=sa.text("state = 'writing'"),
    )
    op.create_index("ix_growth_runs_dataset_upper", "growth_runs", ["dataset", "upper_xid"])


def downgrade() -> None:
    op.drop_table("growth_runs")
    op.execute("DROP TRIGGER analytics_keys_forget ON analytics_keys")
    op.execute("DROP FUNCTION forget_pseudonym()")
    op.drop_table("growth_forget")
    op.drop_table("analytics_keys")
    for table in TRACKED:
        op.execute(f"DROP TRIGGER {table}_export_xid ON {table}")
        op.drop_index(f"ix_{table}_export_xid", table_name=table)
        op.drop_column(table, "export_xid")
    op.execute("DROP FUNCTION set_export_xid()")
