"""What the Firestore repositories share: paths, mapping snapshots, the context, writes."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from google.api_core.exceptions import NotFound
from google.cloud.firestore import DELETE_FIELD, AsyncClient
from google.cloud.firestore_v1.async_collection import AsyncCollectionReference
from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.base_document import DocumentSnapshot

from domain.common import Clock
from migration.firestore.layout import (
    BACKEND_WRITER,
    DELETED_AT_FIELD,
    DEVICES,
    USERS,
    VERSION_FIELD,
    WRITER_FIELD,
    record_id,
)
from migration.firestore.mapping import devices as device_mapping
from migration.firestore.mapping import users as user_mapping
from migration.firestore.mapping.common import MappingContext, Unmappable, valid_timezone

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Snapshot = DocumentSnapshot[AsyncDocumentReference]


class FromDocument(Protocol[T_co]):
    def __call__(
        self,
        uid: str,
        doc_id: str,
        data: dict[str, Any],
        *,
        create_time: dt.datetime,
        update_time: dt.datetime,
        context: MappingContext,
    ) -> T_co: ...


class Documents:
    """One store's client and clock, and what every repository does with documents."""

    def __init__(self, client: AsyncClient, clock: Clock, skipped: Counter[str]) -> None:
        self.client = client
        self.clock = clock
        self.skipped = skipped
        """Documents left out of reads because they are unmappable, by `collection:reason`."""

    def user(self, uid: str) -> AsyncDocumentReference:
        return self.client.collection(USERS).document(uid)

    def collection(self, uid: str, name: str) -> AsyncCollectionReference:
        collection: AsyncCollectionReference = self.user(uid).collection(name)
        return collection

    async def reference_of(self, uid: str, collection: str, record: UUID) -> AsyncDocumentReference:
        """The document of a record: named by its UUID when the backend created it, else the
        legacy auto-id that maps to it (found among the document ids), else a new one."""
        documents = self.collection(uid, collection)
        named: AsyncDocumentReference = documents.document(str(record))
        if (await named.get()).exists:
            return named
        async for reference in documents.list_documents():
            if record_id(uid, collection, reference.id) == record:
                found: AsyncDocumentReference = reference
                return found
        return named

    def context(self, **values: Any) -> MappingContext:
        return MappingContext(as_of=self.clock(), **values)

    def map(
        self, snapshot: Snapshot, from_document: FromDocument[T], context: MappingContext
    ) -> T | None:
        """The entity of a live document; None for a tombstone or what must be quarantined."""
        data = snapshot.to_dict()
        if data is None or is_deleted(data):
            return None
        uid = snapshot.reference.path.split("/")[1]
        try:
            return mapped(from_document, uid, snapshot, data, context)
        except Unmappable as unmappable:
            self.skipped[f"{snapshot.reference.parent.id}:{unmappable.reason}"] += 1
            return None

    async def map_all(
        self,
        uid: str,
        collection: str,
        from_document: FromDocument[T],
        needs_user_timezone: Callable[[dict[str, Any]], bool] = lambda data: False,
    ) -> list[T]:
        """Every live, mappable document of a user's (small) subcollection."""
        snapshots = [snap async for snap in self.collection(uid, collection).stream()]
        return await self.map_snapshots(uid, snapshots, from_document, needs_user_timezone)

    async def map_snapshots(
        self,
        uid: str,
        snapshots: Iterable[Snapshot],
        from_document: FromDocument[T],
        needs_user_timezone: Callable[[dict[str, Any]], bool] = lambda data: False,
    ) -> list[T]:
        snapshots = list(snapshots)
        needed = any(needs_user_timezone(snap.to_dict() or {}) for snap in snapshots)
        context = self.context(user_timezone=await self.user_timezone(uid) if needed else None)
        mapped = (self.map(snap, from_document, context) for snap in snapshots)
        return [entity for entity in mapped if entity is not None]

    async def user_timezone(self, uid: str) -> str:
        """The user's timezone after its fallback (devices most recently seen first), or UTC."""
        data = (await self.user(uid).get()).to_dict() or {}
        zones = await self.device_timezones(uid) if lacks_timezone(data) else ()
        return user_mapping.user_timezone(data, self.context(device_timezones=zones))

    async def device_timezones(self, uid: str) -> tuple[str, ...]:
        devices = await self.map_all(uid, DEVICES, device_mapping.from_document)
        devices.sort(key=lambda device: device.last_seen_at, reverse=True)
        return tuple(device.timezone for device in devices if device.timezone)


def mapped(
    from_document: FromDocument[T],
    uid: str,
    snapshot: Snapshot,
    data: dict[str, Any],
    context: MappingContext,
) -> T:
    """The entity of an existing document's `data`; raises `Unmappable` for one to quarantine."""
    assert snapshot.create_time is not None
    assert snapshot.update_time is not None
    return from_document(
        uid,
        snapshot.id,
        data,
        create_time=snapshot.create_time,
        update_time=snapshot.update_time,
        context=context,
    )


def is_deleted(data: dict[str, Any]) -> bool:
    return data.get(DELETED_AT_FIELD) is not None


def lacks_timezone(data: dict[str, Any]) -> bool:
    return valid_timezone(data.get("timezone")) is None


async def replace_fields(reference: AsyncDocumentReference, data: dict[str, Any]) -> None:
    """Set every field of `data` (maps wholesale), keep fields the layout does not know (a
    legacy app may read them), and bring a tombstone back to life."""
    fields = {**data, DELETED_AT_FIELD: DELETE_FIELD}
    # The client takes a list of field paths as `merge`; its annotation says only `bool`.
    await reference.set(fields, merge=cast(bool, list(fields)))


async def mark_deleted(
    reference: AsyncDocumentReference, version: int, deleted_at: dt.datetime, **also: Any
) -> None:
    """The tombstone: the document stays, with `deletedAt` and the deletion's version."""
    changes = {
        DELETED_AT_FIELD: deleted_at,
        VERSION_FIELD: version,
        WRITER_FIELD: BACKEND_WRITER,
        **also,
    }
    with contextlib.suppress(NotFound):  # as an UPDATE of no row: nothing to delete
        await reference.update(changes)
