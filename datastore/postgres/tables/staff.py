"""Compliance staff and their roles (ADR 0019). Staff's own data, not an app user's: no uid.
A removed member's row stays (`removed_at`), so that the staff ids in the audit trail still
say who acted; one current member per email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from datastore.postgres.tables.columns import instant

ROLES = "ARRAY['viewer', 'operator', 'approver', 'admin']::text[]"


class StaffMemberRow(SQLModel, table=True):
    __tablename__ = "staff_members"
    __table_args__ = (
        CheckConstraint(
            f"cardinality(roles) > 0 AND roles <@ {ROLES}", name="ck_staff_members_roles"
        ),
        Index(
            "uq_staff_members_current_email",
            "email",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: str = Field(sa_column=Column(Text, primary_key=True))
    email: str = Field(sa_column=Column(Text, nullable=False))
    """Lower case; the identity provider's `email` claim is compared lowered."""
    roles: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    added_at: datetime = instant()
    added_by: str = Field(sa_column=Column(Text, nullable=False))
    removed_at: datetime | None = instant(nullable=True)
