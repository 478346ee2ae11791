"""Each record kind the Firestore → Postgres migration moves, declared once: its collection and
table (from the registry of per-user data), how its records are keyed in both stores, its
mapping both ways, and how verify's repair saves and deletes it in Postgres.

The backfill, verify and its repair read these bindings instead of switching on the entity:
a new kind of record is one more binding here (with its mapping module and its table).
`BINDINGS` is in the order entities are migrated: owners before what they own (users first,
their rows carry the version counters; blocklists before the schedules and sessions that
point at them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from uuid import UUID

from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.base_client import BaseClient
from sqlalchemy import ColumnElement, Row, Table, update
from sqlalchemy.ext.asyncio import AsyncConnection

from datastore.postgres.repositories.blocklists import to_blocklist
from datastore.postgres.repositories.devices import to_device
from datastore.postgres.repositories.focus_sessions import to_focus_session
from datastore.postgres.repositories.schedules import to_schedule
from datastore.postgres.repositories.usage import to_usage_report
from datastore.postgres.repositories.users import to_user
from datastore.postgres.tables import table_of
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.migration import Entity
from migration.firestore import layout
from migration.firestore.mapping import blocklists, devices, focus_sessions, schedules, usage, users
from migration.firestore.repositories.common import Documents, FromDocument

ToDocument = Callable[[Any, BaseClient], dict[str, Any]]
"""The document the legacy layout holds for a record (references need the client)."""
ToRecord = Callable[[Row[Any]], Any]
"""A Postgres row as its repository reads it."""
Save = Callable[[PostgresUnitOfWork, Any, bool], Awaitable[None]]
"""Writes a record through the unit of work; the flag says whether its row exists."""
Delete = Callable[[PostgresUnitOfWork, str, str, int, dt.datetime], Awaitable[None]]
"""Tombstones the record `key` of the user at a version and an instant."""


class RecordKey:
    """How records of a kind are named within their user: verify's key (what reports and both
    stores' reads agree on), the id of the document the backend writes (a mirror's
    `record_key`), and the row's key columns. By default a record UUID, whose legacy documents
    may have auto-ids (`layout.record_id`)."""

    owner = "user_id"
    """The owner's attribute, on records and rows alike."""

    def of_record(self, record: Any) -> str:
        return str(record.id)

    def of_document(self, uid: str, collection: str, doc_id: str) -> str:
        """The key of `users/{uid}/{collection}/{doc_id}`, the same one Postgres rows get."""
        return str(layout.record_id(uid, collection, doc_id))

    def document_id(self, uid: str, key: str) -> str:
        """The id of the document the backend writes for the record `key` (its mirror key)."""
        return key

    def where(self, table: Table, key: str) -> list[ColumnElement[bool]]:
        """The row of `key` among the user's rows."""
        return [table.c.id == UUID(key)]

    async def reference(
        self, docs: Documents, uid: str, collection: str, key: str
    ) -> AsyncDocumentReference:
        """The document of the record `key`: named by its UUID, or the legacy auto-id of it."""
        return await docs.reference_of(uid, collection, UUID(key))


class ProfileKey(RecordKey):
    """The user's profile: `users/{uid}` itself, keyed `` within its user."""

    owner = "uid"

    def of_record(self, record: Any) -> str:
        return ""

    def of_document(self, uid: str, collection: str, doc_id: str) -> str:
        return ""

    def document_id(self, uid: str, key: str) -> str:
        return uid

    def where(self, table: Table, key: str) -> list[ColumnElement[bool]]:
        return []

    async def reference(
        self, docs: Documents, uid: str, collection: str, key: str
    ) -> AsyncDocumentReference:
        return docs.user(uid)


class InstallationKey(RecordKey):
    """Keyed by the installation id, which names the document too."""

    def of_record(self, record: Any) -> str:
        return str(record.installation_id)

    def of_document(self, uid: str, collection: str, doc_id: str) -> str:
        return doc_id

    def where(self, table: Table, key: str) -> list[ColumnElement[bool]]:
        return [table.c.installation_id == key]

    async def reference(
        self, docs: Documents, uid: str, collection: str, key: str
    ) -> AsyncDocumentReference:
        return docs.collection(uid, collection).document(key)


class DayKey(RecordKey):
    """A day's report of an installation: `yyyy-mm-dd/<installationId>`, in a document named
    `yyyy-mm-dd_<installationId>` (`/` separates path segments in Firestore)."""

    def of_record(self, record: Any) -> str:
        return f"{record.date.isoformat()}/{record.installation_id}"

    def of_document(self, uid: str, collection: str, doc_id: str) -> str:
        try:
            day, installation_id = layout.parse_usage_doc_id(doc_id)
        except ValueError:
            return doc_id  # quarantined as `invalid_id` by the mapping
        return f"{day.isoformat()}/{installation_id}"

    def document_id(self, uid: str, key: str) -> str:
        return key.replace("/", "_", 1)

    def where(self, table: Table, key: str) -> list[ColumnElement[bool]]:
        day, installation_id = key.split("/", 1)
        return [
            table.c.date == dt.date.fromisoformat(day),
            table.c.installation_id == installation_id,
        ]

    async def reference(
        self, docs: Documents, uid: str, collection: str, key: str
    ) -> AsyncDocumentReference:
        day, installation_id = key.split("/", 1)
        return docs.collection(uid, collection).document(f"{day}_{installation_id}")


@dataclass(frozen=True, slots=True)
class Binding:
    """What the migration knows of one record kind."""

    entity: Entity
    key: RecordKey
    from_document: FromDocument[Any]
    """The backfill's mapping of a document (`migration/firestore/mapping/`)."""
    to_document: ToDocument
    to_record: ToRecord
    save: Save
    """How repair writes the record in Postgres."""
    delete: Delete | None = None
    """How repair tombstones it in Postgres; None: the kind keeps no tombstones (a profile
    goes with its user, a usage report is replaced), so an extra one is left to an operator."""
    needs_user: bool = False
    """Whether mapping a document needs the user's timezone and blocklists."""
    collection: str = field(init=False)
    """The legacy collection (`users` for profiles; sessions keep their legacy name)."""
    table: Table = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "collection", layout.collection_of(self.entity))
        object.__setattr__(self, "table", table_of(self.entity))

    @property
    def keeps_tombstones(self) -> bool:
        return self.delete is not None

    def owner_of(self, record: Any) -> str:
        """The uid of the user the record (or row) belongs to."""
        return str(getattr(record, self.key.owner))

    def key_of(self, record: Any) -> str:
        """The record's key within its user, as `migration.verify` names records: `` for the
        user itself, the installation id, the UUID, or `yyyy-mm-dd/<installationId>` (usage)."""
        return self.key.of_record(record)

    def key_of_document(self, uid: str, doc_id: str) -> str:
        """The key of `users/{uid}/{collection}/{doc_id}`, the same one Postgres rows get."""
        return self.key.of_document(uid, self.collection, doc_id)

    def document_id(self, uid: str, key: str) -> str:
        """The id of the document the backend writes for the record `key`: the key a mirror
        names the record by (verify's key is the same but for profiles and usage)."""
        return self.key.document_id(uid, key)

    async def reference(self, docs: Documents, uid: str, key: str) -> AsyncDocumentReference:
        """The document of the record `key` of the user (it may not exist)."""
        return await self.key.reference(docs, uid, self.collection, key)

    def where(self, key: str) -> list[ColumnElement[bool]]:
        """The row of `key` among the user's rows of the table."""
        return self.key.where(self.table, key)


def _client_free(to_document: Callable[[Any], dict[str, Any]]) -> ToDocument:
    return lambda record, client: to_document(record)


async def _save_user(uow: PostgresUnitOfWork, record: Any, exists: bool) -> None:
    await uow.users.save(record)  # its row exists: `next_version` made it


async def _save_device(uow: PostgresUnitOfWork, record: Any, exists: bool) -> None:
    await uow.devices.save(record)


async def _save_blocklist(uow: PostgresUnitOfWork, record: Any, exists: bool) -> None:
    await uow.blocklists.save(record)


async def _save_schedule(uow: PostgresUnitOfWork, record: Any, exists: bool) -> None:
    await uow.schedules.save(record)


async def _save_session(uow: PostgresUnitOfWork, record: Any, exists: bool) -> None:
    await (uow.focus_sessions.save if exists else uow.focus_sessions.add)(record)


async def _save_usage(uow: PostgresUnitOfWork, record: Any, exists: bool) -> None:
    await uow.usage.save(record)


async def _delete_device(
    uow: PostgresUnitOfWork, uid: str, key: str, version: int, at: dt.datetime
) -> None:
    await uow.devices.delete(uid, key, version)


async def _delete_blocklist(
    uow: PostgresUnitOfWork, uid: str, key: str, version: int, at: dt.datetime
) -> None:
    await uow.blocklists.delete(uid, UUID(key), version, at)


async def _delete_schedule(
    uow: PostgresUnitOfWork, uid: str, key: str, version: int, at: dt.datetime
) -> None:
    await uow.schedules.delete(uid, UUID(key), version, at)


async def _delete_session(
    uow: PostgresUnitOfWork, uid: str, key: str, version: int, at: dt.datetime
) -> None:
    await delete_session(uow.connection, uid, UUID(key), version, at)


async def delete_session(
    conn: AsyncConnection, uid: str, session_id: UUID, version: int, at: dt.datetime
) -> None:
    """A session's tombstone, as the other owned records are deleted (the focus-session port
    has no delete: the API deletes no session)."""
    table = table_of(Entity.FOCUS_SESSIONS)
    where = [table.c.user_id == uid, table.c.id == session_id]
    await conn.execute(
        update(table).where(*where).values(deleted_at=at, updated_at=at, version=version)
    )


_BY_UUID = RecordKey()

BINDINGS: Mapping[Entity, Binding] = MappingProxyType(
    {
        binding.entity: binding
        for binding in (
            Binding(
                Entity.USERS,
                ProfileKey(),
                users.from_document,
                _client_free(users.to_document),
                to_user,
                _save_user,
            ),
            Binding(
                Entity.DEVICES,
                InstallationKey(),
                devices.from_document,
                _client_free(devices.to_document),
                to_device,
                _save_device,
                _delete_device,
            ),
            Binding(
                Entity.BLOCKLISTS,
                _BY_UUID,
                blocklists.from_document,
                _client_free(blocklists.to_document),
                to_blocklist,
                _save_blocklist,
                _delete_blocklist,
            ),
            Binding(
                Entity.SCHEDULES,
                _BY_UUID,
                schedules.from_document,
                schedules.to_document,
                to_schedule,
                _save_schedule,
                _delete_schedule,
                needs_user=True,
            ),
            Binding(
                Entity.FOCUS_SESSIONS,
                _BY_UUID,
                focus_sessions.from_document,
                focus_sessions.to_document,
                to_focus_session,
                _save_session,
                _delete_session,
                needs_user=True,
            ),
            Binding(
                Entity.USAGE,
                DayKey(),
                usage.from_document,
                _client_free(usage.to_document),
                to_usage_report,
                _save_usage,
            ),
        )
    }
)
"""Every entity's binding, in the order they are migrated."""

ORDER: tuple[Entity, ...] = tuple(BINDINGS)
"""The order `focus migrate backfill` and `verify` take the entities in."""
