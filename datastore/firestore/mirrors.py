"""Dual writes' Firestore side: the document a write owes, and writing it only if newer.

`mirror_of_save` / `mirror_of_delete` turn a record into the `PendingMirror` its Postgres
transaction stores: exactly the fields the Firestore repositories would write, encoded with
the legacy change codec (so timestamps keep their nanoseconds and references their paths).
`FirestoreMirrorWriter.apply` writes one in a Firestore transaction that first reads the
document's `_v`: a mirror not newer than the document changes nothing, so a late repair, a
retry or two appliers racing can never put older data over newer (ADR 0012).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, cast
from uuid import UUID

from google.cloud.firestore import DELETE_FIELD, AsyncClient
from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.async_transaction import AsyncTransaction, async_transactional
from google.cloud.firestore_v1.base_document import BaseDocumentReference

from datastore.firestore.layout import (
    BACKEND_WRITER,
    BLOCKLISTS,
    DELETED_AT_FIELD,
    DEVICES,
    SCHEDULES,
    SESSIONS,
    USAGE,
    USERS,
    VERSION_FIELD,
    WRITER_FIELD,
    usage_doc_id,
)
from datastore.firestore.mapping import blocklists, devices, focus_sessions, schedules, usage, users
from datastore.firestore.mapping.common import version_of
from datastore.firestore.repositories.common import Documents
from domain.blocklists.model import Blocklist
from domain.devices.model import Device
from domain.focus_sessions.model import FocusSession
from domain.migration import Entity, MirrorKind, PendingMirror
from domain.schedules.model import Schedule
from domain.usage.model import UsageReport
from domain.users.model import User
from functions import legacy_change as codec

Record = User | Device | Blocklist | Schedule | FocusSession | UsageReport

COLLECTIONS = {
    Entity.DEVICES: DEVICES,
    Entity.BLOCKLISTS: BLOCKLISTS,
    Entity.SCHEDULES: SCHEDULES,
    Entity.FOCUS_SESSIONS: SESSIONS,
    Entity.USAGE: USAGE,
}
"""Each entity's subcollection under `users/{uid}` (users are the `users/{uid}` documents)."""
_BY_UUID = (Entity.BLOCKLISTS, Entity.SCHEDULES, Entity.FOCUS_SESSIONS)
"""Entities whose legacy documents have auto-ids that map to the record's UUID."""


class MirrorOutcome(StrEnum):
    WRITTEN = "written"
    STALE = "stale"
    """Firestore already holds this version or a newer one: nothing written."""
    ABSENT = "absent"
    """A deletion of a document Firestore does not have: nothing to mark."""


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


def mirror_of_user_creation(user: User) -> PendingMirror:
    """A user's first document, written only when Firestore has none (never over a profile)."""
    return PendingMirror(
        entity=Entity.USERS,
        user_id=user.uid,
        record_key=user.uid,
        version=user.version,
        kind=MirrorKind.CREATE,
        fields=_encode(users.to_document(user)),
    )


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


class FirestoreMirrorWriter:
    def __init__(self, client: AsyncClient, documents: Documents) -> None:
        self._client = client
        self._docs = documents

    async def apply(self, mirror: PendingMirror) -> MirrorOutcome:
        """Writes the mirror unless Firestore's document is as new or newer."""
        reference = await self._reference(mirror)
        fields = {name: self._decode(value) for name, value in mirror.fields.items()}

        @async_transactional
        async def write(transaction: AsyncTransaction) -> MirrorOutcome:
            snapshot = await reference.get(transaction=transaction)
            data = snapshot.to_dict() if snapshot.exists else None
            if mirror.kind is MirrorKind.CREATE:
                if data is not None:
                    return MirrorOutcome.STALE
                transaction.create(reference, fields)
                return MirrorOutcome.WRITTEN
            if data is not None and version_of(data) >= mirror.version:
                return MirrorOutcome.STALE
            if mirror.kind is MirrorKind.TOMBSTONE:
                if data is None:
                    return MirrorOutcome.ABSENT
                transaction.update(reference, fields)
                return MirrorOutcome.WRITTEN
            # Every field the layout knows is set (maps wholesale); unknown fields a legacy
            # app may still read are kept; a tombstone comes back to life.
            revived = {**fields, DELETED_AT_FIELD: DELETE_FIELD}
            transaction.set(reference, revived, merge=cast(bool, list(revived)))
            return MirrorOutcome.WRITTEN

        outcome: MirrorOutcome = await write(self._client.transaction())
        return outcome

    async def _reference(self, mirror: PendingMirror) -> AsyncDocumentReference:
        if mirror.entity is Entity.USERS:
            return self._docs.user(mirror.user_id)
        collection = COLLECTIONS[mirror.entity]
        if mirror.entity in _BY_UUID:
            return await self._docs.reference_of(
                mirror.user_id, collection, UUID(mirror.record_key)
            )
        reference: AsyncDocumentReference = self._docs.collection(
            mirror.user_id, collection
        ).document(mirror.record_key)
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


__all__ = ["USERS", "FirestoreMirrorWriter", "MirrorOutcome", "mirror_of_delete", "mirror_of_save"]
