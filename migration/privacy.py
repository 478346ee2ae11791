"""The legacy Firestore's part of export and erasure (`PersonalData` for `DataStore.FIRESTORE`).

An entry of the registry names a collection of the legacy layout: `users` is the profile
document `users/{uid}` itself, any other a subcollection `users/{uid}/<location>`. A
subcollection's records are its documents and everything below them (a nested subcollection
is found too); the profile's are the document and what sits below it outside the layout's
subcollections (an old app version, or a bug, may have written anywhere under the user, and
only this entry would find it). So `count` matches what `read` yields, and the erasure scan
sees every document erasure has to remove.

Erasure deletes recursively without Firestore's `recursive_delete`: that one hands the deletes
to a `BulkWriter`, which works on a synchronous copy of the client and blocks the event loop
until every batch is written. Here a query of everything below a collection (Firestore's
kindless all-descendants range, as `recursive_delete` runs it) is read in pages of at most 500
ids, each page deleted in one batch, until none is left; erasing the profile lists the user
document's subcollections (`collections()`: whatever their names) and empties each, then
deletes the document. Nothing of the user is logged, counts and kinds only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud.firestore import AsyncClient, GeoPoint
from google.cloud.firestore_v1.async_collection import AsyncCollectionReference
from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.async_query import AsyncQuery
from google.cloud.firestore_v1.base_document import BaseDocumentReference, DocumentSnapshot
from google.cloud.firestore_v1.field_path import FieldPath
from google.cloud.firestore_v1.vector import Vector

from domain.user_data import DataStore, UserData
from migration.firestore.layout import SUBCOLLECTIONS, USERS

log = logging.getLogger(__name__)

BATCH = 500
"""Firestore's limit of writes in one batch."""
ID = "id"
"""The key of a record's document id (its path below the collection, for a nested one)."""
_SHADOWED_ID = "_field_id"
"""Where a document's own `id` field goes in a record (the key `id` is the document's)."""
_DOCUMENT_ID = FieldPath.document_id()


class FirestorePersonalData:
    store = DataStore.FIRESTORE

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def count(self, entry: UserData, uid: str) -> int:
        _check(entry)
        found = 0
        if entry.location == USERS:
            found += int((await self._user(uid).get(field_paths=[])).exists)
        for collection in await self._collections(entry, uid):
            async for _ in _below(collection).select([_DOCUMENT_ID]).stream():
                found += 1
        return found

    async def read(self, entry: UserData, uid: str) -> AsyncIterator[Mapping[str, Any]]:
        _check(entry)
        user = self._user(uid)
        # The profile's documents are named from the user document, the others from their
        # collection (their id, or `doc/sub/child` for a nested one).
        base = user.path if entry.location == USERS else f"{user.path}/{entry.location}"
        if entry.location == USERS:
            profile = await user.get()
            if profile.exists:
                yield _record(uid, profile)
        for collection in await self._collections(entry, uid):
            async for snapshot in _below(collection).stream():
                yield _record(snapshot.reference.path[len(base) + 1 :], snapshot)

    async def erase(self, entry: UserData, uid: str) -> int:
        _check(entry)
        deleted = 0
        for collection in await self._collections(entry, uid, everything=True):
            deleted += await self._empty(collection)
        if entry.location == USERS:
            deleted += await self._delete_if_exists(self._user(uid))
        log.info("privacy.firestore.erased", extra={"kind": entry.name, "count": deleted})
        return deleted

    async def _collections(
        self, entry: UserData, uid: str, *, everything: bool = False
    ) -> list[AsyncCollectionReference]:
        """The collections `entry` covers for `uid`: its subcollection, or for the profile the
        user document's subcollections outside the layout (all of them, `everything`)."""
        user = self._user(uid)
        if entry.location in SUBCOLLECTIONS:
            return [user.collection(entry.location)]
        found = [collection async for collection in user.collections()]
        return sorted(
            (c for c in found if everything or c.id not in SUBCOLLECTIONS), key=lambda c: c.id
        )

    async def _empty(self, collection: AsyncCollectionReference) -> int:
        """Deletes every document at or below `collection`, a batch per page of ids."""
        deleted = 0
        while True:
            query = _below(collection).select([_DOCUMENT_ID]).limit(BATCH)
            page = [snapshot.reference async for snapshot in query.stream()]
            if not page:
                return deleted
            batch = self._client.batch()
            for reference in page:
                batch.delete(reference)
            await batch.commit()
            deleted += len(page)

    async def _delete_if_exists(self, document: AsyncDocumentReference) -> int:
        try:
            await document.delete(option=self._client.write_option(exists=True))
        except NotFound:
            return 0
        return 1

    def _user(self, uid: str) -> AsyncDocumentReference:
        return self._client.collection(USERS).document(uid)


def _check(entry: UserData) -> None:
    """An entry this adapter does not know is an error, never an empty answer."""
    if entry.store is not DataStore.FIRESTORE:
        raise ValueError(f"not a Firestore entry: {entry.name}")
    if entry.location != USERS and entry.location not in SUBCOLLECTIONS:
        raise ValueError(f"not a collection of the legacy layout: {entry.name}")


def _below(collection: AsyncCollectionReference) -> AsyncQuery:
    """A query of every document of `collection` and below, whatever the subcollections' names
    (ordered by path: a nested document follows its parent)."""
    return collection.recursive()


def _record(document_id: str, snapshot: DocumentSnapshot[Any]) -> dict[str, Any]:
    data = snapshot.to_dict() or {}
    record: dict[str, Any] = {ID: document_id}
    for name, value in data.items():
        record[_SHADOWED_ID if name == ID else name] = json_ready(value)
    return record


def json_ready(value: Any) -> Any:
    """A Firestore value as JSON can carry it: instants in ISO 8601, references as their path,
    bytes in hex, geopoints and vectors as plain values; maps and arrays through."""
    match value:
        case dt.datetime():
            return value.isoformat()
        case BaseDocumentReference():
            return value.path
        case bytes():
            return value.hex()
        case GeoPoint():
            return {"latitude": value.latitude, "longitude": value.longitude}
        case Vector():
            return [float(v) for v in value]
        case Mapping():
            return {str(k): json_ready(v) for k, v in value.items()}
        case list() | tuple():
            return [json_ready(v) for v in value]
    return value
