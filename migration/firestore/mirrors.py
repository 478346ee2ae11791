"""Dual writes' Firestore side: the document a write owes, and writing it only if newer.

`mirror_of_save` / `mirror_of_delete` turn a record into the `PendingMirror` its Postgres
transaction stores: exactly the fields the Firestore repositories would write, encoded with
the legacy change codec (so timestamps keep their nanoseconds and references their paths).
`FirestoreMirrorWriter.apply` writes one in a Firestore transaction that first reads the
document's `_v`: a mirror not newer than the document changes nothing, so a late repair, a
retry or two appliers racing can never put older data over newer (ADR 0012).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import Any
from uuid import UUID

from google.api_core.exceptions import AlreadyExists, Conflict, FailedPrecondition
from google.cloud.firestore import DELETE_FIELD, AsyncClient
from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.base_document import BaseDocumentReference

from domain.blocklists.model import Blocklist
from domain.devices.model import Device
from domain.focus_sessions.model import FocusSession
from domain.migration import Entity, MirrorKind, PendingMirror
from domain.schedules.model import Schedule
from domain.usage.model import UsageReport
from domain.users.model import User
from functions import legacy_change as codec
from migration.firestore.layout import (
    BACKEND_WRITER,
    DELETED_AT_FIELD,
    VERSION_FIELD,
    WRITER_FIELD,
    collection_of,
    record_id,
    usage_doc_id,
)
from migration.firestore.mapping import blocklists, devices, focus_sessions, schedules, usage, users
from migration.firestore.mapping.common import version_of
from migration.firestore.repositories.common import Documents, Snapshot

Record = User | Device | Blocklist | Schedule | FocusSession | UsageReport

COLLECTIONS: dict[Entity, str] = {
    entity: collection_of(entity) for entity in Entity if entity is not Entity.USERS
}
"""Each entity's subcollection under `users/{uid}` (users are the `users/{uid}` documents)."""
_BY_UUID = (Entity.BLOCKLISTS, Entity.SCHEDULES, Entity.FOCUS_SESSIONS)
LEGACY_UUID_VERSION = 5
"""Entities whose legacy documents have auto-ids that map to the record's UUID."""


def _may_be_legacy(mirror: PendingMirror) -> bool:
    """Whether the record's document may have a legacy auto-id: only records whose UUID was
    derived from one (UUID5, `layout.record_id`); the backend names its own by their UUID."""
    return mirror.entity in _BY_UUID and UUID(mirror.record_key).version == LEGACY_UUID_VERSION


class MirrorOutcome(StrEnum):
    WRITTEN = "written"
    STALE = "stale"
    """Firestore already holds this version or a newer one: nothing written."""


def mirror_of_save(entity: Entity, record: Record, client: AsyncClient) -> PendingMirror:
    """The mirror of saving `record` (of `entity`'s type) at its version."""
    key, fields = _document(record, client)
    return PendingMirror(
        entity=entity,
        user_id=record.uid if isinstance(record, User) else record.user_id,
        record_key=key,
        version=record.version,
        kind=MirrorKind.SET,
        fields=_encode(fields),
    )


def mirror_of_creation(entity: Entity, record: Record, client: AsyncClient) -> PendingMirror:
    """A new record's document, created only when absent: one round trip, and a retry after
    it was written finds it and changes nothing (a profile is never overwritten this way)."""
    return dataclasses.replace(mirror_of_save(entity, record, client), kind=MirrorKind.CREATE)


def mirror_of_delete(
    entity: Entity, user_id: str, record_key: str, version: int, deleted_at: dt.datetime
) -> PendingMirror:
    """The tombstone the Firestore repositories leave for a deleted record."""
    fields: dict[str, Any] = {
        DELETED_AT_FIELD: deleted_at,
        VERSION_FIELD: version,
        WRITER_FIELD: BACKEND_WRITER,
    }
    if entity is Entity.DEVICES:
        fields["pushToken"] = None
    else:
        fields["updatedAt"] = deleted_at
    return PendingMirror(
        entity=entity,
        user_id=user_id,
        record_key=record_key,
        version=version,
        kind=MirrorKind.TOMBSTONE,
        fields=_encode(fields),
    )


def _document(record: Record, client: AsyncClient) -> tuple[str, dict[str, Any]]:
    match record:
        case User():
            return record.uid, users.to_document(record)
        case Device():
            return record.installation_id, devices.to_document(record)
        case Blocklist():
            return str(record.id), blocklists.to_document(record)
        case Schedule():
            return str(record.id), schedules.to_document(record, client)
        case FocusSession():
            return str(record.id), focus_sessions.to_document(record, client)
        case UsageReport():
            return usage_doc_id(record.date, record.installation_id), usage.to_document(record)


def _encode(fields: dict[str, Any]) -> dict[str, object]:
    encoded: dict[str, object] = codec.encode_document(fields, _to_codec)
    return encoded


def _to_codec(value: object) -> object:
    if isinstance(value, BaseDocumentReference):
        return codec.Reference(value.path)
    return value


MAX_CONTENDED = 5


class MirrorContended(Exception):
    """The document kept changing under the mirror: it stays pending, the repair retries."""


class FirestoreMirrorWriter:
    def __init__(self, client: AsyncClient, documents: Documents) -> None:
        self._client = client
        self._docs = documents

    async def apply(self, mirror: PendingMirror) -> MirrorOutcome:
        """Writes the mirror unless Firestore's document is as new or newer.

        Read, decide, then write on the condition that the document is still the one read
        (its `update_time`, or its absence): two round trips, where a transaction takes
        three. When someone wrote in between, the decision is made again on what they left.
        """
        fields = {name: self._decode(value) for name, value in mirror.fields.items()}
        if mirror.kind is MirrorKind.CREATE:
            try:
                await self._named(mirror).create(fields)
            except AlreadyExists:
                return MirrorOutcome.STALE
            return MirrorOutcome.WRITTEN
        for _ in range(MAX_CONTENDED):
            snapshot = await self._current(mirror)
            reference = snapshot.reference
            data = snapshot.to_dict() if snapshot.exists else None
            try:
                if data is None:
                    # A deletion of a document not written yet (its creation's mirror still
                    # pending) leaves the tombstone all the same: that mirror, older, then
                    # finds a newer document and can no longer bring the record back.
                    await reference.create(fields)
                    return MirrorOutcome.WRITTEN
                if version_of(data) >= mirror.version:
                    return MirrorOutcome.STALE
                unchanged = self._client.write_option(last_update_time=snapshot.update_time)
                if mirror.kind is MirrorKind.TOMBSTONE:
                    await reference.update(fields, option=unchanged)
                else:
                    # Every field the layout knows is set (maps wholesale); fields it does not
                    # know, which a legacy app may read, stay; a tombstone comes back to life.
                    revived = {**fields, DELETED_AT_FIELD: DELETE_FIELD}
                    await reference.update(revived, option=unchanged)
                return MirrorOutcome.WRITTEN
            except (AlreadyExists, Conflict, FailedPrecondition):
                continue  # written meanwhile: decide again on what is there now
        raise MirrorContended(f"{mirror.entity} document changed {MAX_CONTENDED} times meanwhile")

    async def _current(self, mirror: PendingMirror) -> Snapshot:
        """The mirror's document as it is (existing or not): named by the record's key, or,
        for a record first written by a legacy app, by the auto-id that maps to its UUID."""
        named: Snapshot = await self._named(mirror).get()
        if named.exists or not _may_be_legacy(mirror):
            return named
        record = UUID(mirror.record_key)
        documents = self._docs.collection(mirror.user_id, COLLECTIONS[mirror.entity])
        async for reference in documents.list_documents():
            if record_id(mirror.user_id, reference.parent.id, reference.id) == record:
                legacy: Snapshot = await reference.get()
                return legacy
        return named

    def _named(self, mirror: PendingMirror) -> AsyncDocumentReference:
        if mirror.entity is Entity.USERS:
            return self._docs.user(mirror.user_id)
        documents = self._docs.collection(mirror.user_id, COLLECTIONS[mirror.entity])
        reference: AsyncDocumentReference = documents.document(mirror.record_key)
        return reference

    def _decode(self, value: object) -> Any:
        decoded = codec.decode_value(value)
        return self._client_values(decoded)

    def _client_values(self, value: Any) -> Any:
        if isinstance(value, codec.Reference):
            return self._client.document(value.path)
        if isinstance(value, dict):
            return {key: self._client_values(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._client_values(item) for item in value]
        return value
