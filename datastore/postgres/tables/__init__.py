"""Every table of the schema. Importing this package fills `SQLModel.metadata`."""

from sqlmodel import SQLModel

from datastore.postgres.tables import devices, idempotency, users

metadata = SQLModel.metadata

__all__ = ["devices", "idempotency", "metadata", "users"]
