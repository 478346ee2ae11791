"""Reading Firestore for verify: every document in path order, grouped per user; one record by
its key; a random sample; and each user's documents mapped as the backfill maps them.

Collection-group queries find subcollection documents whose `users/{uid}` is gone (orphans),
which walking `users` would miss. Ordered by path, a group's documents come user by user.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from random import Random
from typing import Any
from uuid import UUID

from google.cloud.firestore import AsyncClient, AsyncQuery
from google.cloud.firestore_v1.field_path import FieldPath

from domain.migration import Entity
from migration.entities import BINDINGS
from migration.firestore import layout
from migration.firestore.mapping.common import MappingContext, Unmappable, version_of
from migration.firestore.mapping.focus_sessions import settle_running
from migration.firestore.repositories.common import (
    Documents,
    Snapshot,
    is_deleted,
    lacks_timezone,
    mapped,
)
from migration.verify.records import Found, Quarantined

PAGE = 300
"""Documents per query of a full walk."""
UID_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
"""Firebase uids: 28 of these, at random; random start keys are drawn alike."""

FirestoreRecord = Found | Quarantined


class FirestoreSide:
    def __init__(self, documents: Documents) -> None:
        self.docs = documents

    @property
    def client(self) -> AsyncClient:
        return self.docs.client

    def _documents(self, entity: Entity) -> AsyncQuery:
        if entity is Entity.USERS:
            query: AsyncQuery = self.client.collection(layout.USERS).order_by(
                FieldPath.document_id()
            )
        else:
            query = self.client.collection_group(BINDINGS[entity].collection).order_by(
                FieldPath.document_id()
            )
        return query

    async def users(self, entity: Entity) -> AsyncIterator[tuple[str, list[Snapshot]]]:
        """Every document of the entity, paged in path order, one user's at a time."""
        uid: str | None = None
        group: list[Snapshot] = []
        async for snapshot in self._walk(entity):
            owner = snapshot.reference.path.split("/")[1]
            if owner != uid and group:
                assert uid is not None
                yield uid, group
                group = []
            uid = owner
            group.append(snapshot)
        if uid is not None and group:
            yield uid, group

    async def _walk(self, entity: Entity) -> AsyncIterator[Snapshot]:
        query = self._documents(entity).limit(PAGE)
        last: Snapshot | None = None
        while True:
            page = query.start_after(last) if last is not None else query
            snapshots: list[Snapshot] = [snap async for snap in page.stream()]
            for snapshot in snapshots:
                if _in_layout(entity, snapshot.reference.path):
                    yield snapshot
            if len(snapshots) < PAGE:
                return
            last = snapshots[-1]

    async def has_documents(self, entity: Entity, uid: str) -> bool:
        """Whether the user has any document (a tombstone counts) of the entity."""
        if entity is Entity.USERS:
            return bool((await self.docs.user(uid).get()).exists)
        query = self.docs.collection(uid, BINDINGS[entity].collection).limit(1)
        return bool([snap async for snap in query.stream()])

    async def lookup(self, entity: Entity, uid: str, key: str) -> Snapshot | None:
        """The document of the record `key` of the user, if there is one."""
        reference = await BINDINGS[entity].reference(self.docs, uid, key)
        snapshot: Snapshot = await reference.get()
        return snapshot if snapshot.exists else None

    async def sample(self, entity: Entity, size: int, rng: Random) -> list[tuple[str, str]]:
        """`size` draws of (uid, key): the first user at or after a random uid, then one of that
        user's documents uniformly. Users after wide gaps between uids are drawn more often,
        and records of users with few records; every record can be drawn."""
        keys: list[tuple[str, str]] = []
        for _ in range(size):
            uid = await self._user_at_or_after(entity, "".join(rng.choices(UID_ALPHABET, k=28)))
            if uid is None:
                break  # no documents at all
            if entity is Entity.USERS:
                keys.append((uid, ""))
                continue
            binding = BINDINGS[entity]
            query = self.docs.collection(uid, binding.collection).select([])
            ids = sorted([snap.id async for snap in query.stream()])
            keys.append((uid, binding.key_of_document(uid, rng.choice(ids))))
        return keys

    async def _user_at_or_after(self, entity: Entity, start: str) -> str | None:
        path = f"{layout.USERS}/{start}"
        if entity is not Entity.USERS:
            path = f"{path}/{BINDINGS[entity].collection}/0"
        query = self._documents(entity)
        for candidate in (query.start_at([self.client.document(path)]), query):
            found = [snap async for snap in candidate.limit(1).stream()]
            if found:
                return str(found[0].reference.path.split("/")[1])
        return None

    async def records(
        self, entity: Entity, uid: str, snapshots: Sequence[Snapshot]
    ) -> dict[str, FirestoreRecord]:
        """The user's documents of the entity, mapped with the context the backfill gives."""
        context = await self._context(entity, uid, snapshots)
        mapped = [self._record(entity, uid, snapshot, context) for snapshot in snapshots]
        if entity is Entity.FOCUS_SESSIONS:
            mapped = _settled(mapped)
        return {record.key: record for record in mapped}

    def _record(
        self, entity: Entity, uid: str, snapshot: Snapshot, context: MappingContext
    ) -> FirestoreRecord:
        binding = BINDINGS[entity]
        key = binding.key_of_document(uid, snapshot.id)
        data = snapshot.to_dict() or {}
        if is_deleted(data):
            return Found(key, None, deleted=True, version=version_of(data))
        try:
            record = mapped(binding.from_document, uid, snapshot, data, context)
        except Unmappable as unmappable:
            return Quarantined(key, unmappable.reason.value)
        return Found(key, record, deleted=False, version=version_of(data))

    async def _context(
        self, entity: Entity, uid: str, snapshots: Sequence[Snapshot]
    ) -> MappingContext:
        lacking = any(lacks_timezone(snap.to_dict() or {}) for snap in snapshots)
        if entity is Entity.USERS:
            zones = await self.docs.device_timezones(uid) if lacking else ()
            return self.docs.context(device_timezones=zones)
        values: dict[str, Any] = {"user_exists": (await self.docs.user(uid).get()).exists}
        if BINDINGS[entity].needs_user and lacking:
            values["user_timezone"] = await self.docs.user_timezone(uid)
        if BINDINGS[entity].needs_user:
            values["blocklist_ids"] = await self._blocklist_ids(uid)
        return self.docs.context(**values)

    async def _blocklist_ids(self, uid: str) -> frozenset[UUID]:
        """The blocklists a schedule or session of `uid` may name, by the backfill's rule: every
        blocklist document that reaches Postgres, live or a tombstone (a session keeps a deleted
        blocklist as history). A quarantined or missing one is a dangling reference, which the
        mapping drops (sessions) or quarantines (schedules) in both."""
        context = self.docs.context(user_exists=True)
        found: set[UUID] = set()
        async for snapshot in self.docs.collection(uid, layout.BLOCKLISTS).stream():
            record = self._record(Entity.BLOCKLISTS, uid, snapshot, context)
            if isinstance(record, Found):
                found.add(UUID(record.key))
        return frozenset(found)


def _in_layout(entity: Entity, path: str) -> bool:
    """`users/{uid}` or `users/{uid}/{collection}/{id}`: a same-named collection elsewhere is
    not the legacy app's."""
    parts = path.split("/")
    return parts[0] == layout.USERS and len(parts) == (2 if entity is Entity.USERS else 4)


def _settled(records: list[FirestoreRecord]) -> list[FirestoreRecord]:
    """One running session per user, as the backfill leaves it (of those read together)."""
    live = [r.record for r in records if isinstance(r, Found) and r.record is not None]
    settled = {session.id: session for session in settle_running(live)}
    return [
        replace(r, record=settled[r.record.id])
        if isinstance(r, Found) and r.record is not None
        else r
        for r in records
    ]
