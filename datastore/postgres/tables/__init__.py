"""Every table of the schema. Importing this package fills `SQLModel.metadata`."""

from sqlmodel import SQLModel

from datastore.postgres.tables import (
    blocklists,
    devices,
    focus_sessions,
    idempotency,
    outbox,
    schedules,
    usage,
    users,
)

metadata = SQLModel.metadata

__all__ = [
    "blocklists",
    "devices",
    "focus_sessions",
    "idempotency",
    "metadata",
    "outbox",
    "schedules",
    "usage",
    "users",
]
