"""Reading one entity's Firestore documents in pages, in document-path order.

Users come from the `users` collection; every other entity from a collection-group query, so
that documents under a missing `users/{uid}` (orphans) are found too. Both are ordered by the
full document path (`__name__`), which never changes and is unique: paging `start_after` the
last path reads every document exactly once, and a checkpoint of that path resumes there.
"""

from __future__ import annotations

import logging
from typing import Any

from google.api_core.exceptions import GoogleAPICallError
from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.async_document import AsyncDocumentReference
from google.cloud.firestore_v1.async_query import AsyncQuery
from google.cloud.firestore_v1.base_document import DocumentSnapshot

from domain.migration import Entity
from migration.entities import BINDINGS
from migration.firestore import layout

log = logging.getLogger("migration.backfill")

Snapshot = DocumentSnapshot[AsyncDocumentReference]

DOCUMENT_ID = "__name__"


def _query(client: AsyncClient, entity: Entity) -> AsyncQuery:
    name = BINDINGS[entity].collection
    source = client.collection(name) if entity is Entity.USERS else client.collection_group(name)
    query: AsyncQuery = source.order_by(DOCUMENT_ID)
    return query


async def page(
    client: AsyncClient, entity: Entity, after: str | None, limit: int
) -> list[Snapshot]:
    """Up to `limit` documents whose path follows `after` (None: from the first)."""
    query = _query(client, entity)
    if after is not None:
        query = query.start_after({DOCUMENT_ID: client.document(after)})
    return [snapshot async for snapshot in query.limit(limit).stream()]


async def total(client: AsyncClient, entity: Entity) -> int | None:
    """The entity's document count (a count aggregation), or None when Firestore refuses it."""
    try:
        aggregation: Any = _query(client, entity).count()  # typed as a class, returns a query
        results = await aggregation.get()
    except GoogleAPICallError as exc:
        log.warning("migration.backfill.count_failed", extra={"entity": entity, "error": str(exc)})
        return None
    return int(results[0][0].value)


def owner(snapshot: Snapshot) -> str | None:
    """The uid of `users/{uid}` or `users/{uid}/{collection}/{id}`; None for a document of a
    same-named collection elsewhere (not the app's)."""
    parts = snapshot.reference.path.split("/")
    if parts[0] != layout.USERS or len(parts) not in (2, 4):
        return None
    uid: str = parts[1]
    return uid
