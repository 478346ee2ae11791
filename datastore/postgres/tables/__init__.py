"""Every table of the schema. Importing this package fills `SQLModel.metadata`."""

from sqlmodel import SQLModel

from datastore.postgres.tables import (
    backfill,
    blocklists,
    consumers,
    devices,
    focus_sessions,
    idempotency,
    migration,
    mirrors,
    outbox,
    push_budgets,
    schedules,
    tasks,
    usage,
    users,
)

metadata = SQLModel.metadata

__all__ = [
    "backfill",
    "blocklists",
    "consumers",
    "devices",
    "focus_sessions",
    "idempotency",
    "metadata",
    "migration",
    "mirrors",
    "outbox",
    "push_budgets",
    "schedules",
    "tasks",
    "usage",
    "users",
]
