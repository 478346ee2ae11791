"""growth exports: each person's HMAC pads, so that record keys are computed by the database

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _pad(secret: bytes, byte: int) -> bytes:
    return bytes(b ^ byte for b in secret.ljust(64, b"\0"))


def upgrade() -> None:
    op.add_column("analytics_keys", sa.Column("inner_pad", sa.LargeBinary(), nullable=True))
    op.add_column("analytics_keys", sa.Column("outer_pad", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    keys = conn.execute(sa.text("SELECT user_id, secret FROM analytics_keys")).all()
    for user_id, secret in keys:
        conn.execute(
            sa.text("UPDATE analytics_keys SET inner_pad = :i, outer_pad = :o WHERE user_id = :u"),
            {"i": _pad(bytes(secret), 0x36), "o": _pad(bytes(secret), 0x5C), "u": user_id},
        )
    op.alter_column("analytics_keys", "inner_pad", nullable=False)
    op.alter_column("analytics_keys", "outer_pad", nullable=False)


def downgrade() -> None:
    op.drop_column("analytics_keys", "outer_pad")
    op.drop_column("analytics_keys", "inner_pad")
