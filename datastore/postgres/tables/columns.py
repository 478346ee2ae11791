"""Column helpers shared by every table, so that all tables read alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Text
from sqlmodel import Field


def user_fk(*, primary_key: bool = False) -> Any:
    """The owner's Firebase uid. Every row of a user is reachable from it (erasure, export)."""
    return Field(
        sa_column=Column(
            "user_id",
            Text,
            ForeignKey("users.uid", ondelete="CASCADE"),
            primary_key=primary_key,
            nullable=False,
        )
    )


def instant(*, nullable: bool = False) -> Any:
    """A UTC instant (timestamptz)."""
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable))


def version() -> Any:
    """The user's change number at the last write of this row: only grows; ETag and sync cursor."""
    return Field(sa_column=Column(BigInteger, nullable=False))


SET_BY_TRIGGERS = frozenset({"export_xid"})
"""Columns the database fills in itself: no writer names them, no reader hands them out."""


def export_xid() -> Any:
    """The transaction that last wrote the row (set by a trigger): the growth exports'
    commit-order watermark (ADR 0020). NULL for rows written before it existed."""
    return Field(default=None, sa_column=Column(BigInteger, nullable=True))


def tombstone() -> Any:
    """Set when the row is deleted; the row stays so that sync can tell clients."""
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


__all__ = [
    "SET_BY_TRIGGERS",
    "datetime",
    "export_xid",
    "instant",
    "tombstone",
    "user_fk",
    "version",
]
