"""Every table of the schema. Importing this package fills `SQLModel.metadata`."""

from sqlalchemy import Table
from sqlmodel import SQLModel

from datastore.postgres.tables import (
    ai,
    ai_consents,
    backfill,
    blocklists,
    consumers,
    devices,
    focus_sessions,
    growth,
    idempotency,
    migration,
    mirrors,
    outbox,
    privacy,
    push_budgets,
    schedules,
    staff,
    tasks,
    usage,
    users,
)
from domain.migration import Entity
from domain.user_data import DataStore, of_entity

metadata = SQLModel.metadata


def table_of(entity: Entity) -> Table:
    """The table of `entity`'s records, as the registry of per-user data names it."""
    return metadata.tables[of_entity(entity, DataStore.POSTGRES).location]


__all__ = [
    "ai",
    "ai_consents",
    "backfill",
    "blocklists",
    "consumers",
    "devices",
    "focus_sessions",
    "growth",
    "idempotency",
    "metadata",
    "migration",
    "mirrors",
    "outbox",
    "privacy",
    "push_budgets",
    "schedules",
    "staff",
    "table_of",
    "tasks",
    "usage",
    "users",
]
