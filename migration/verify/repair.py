"""Repairing the follower store from the phase's source of truth, record by divergent record.

Source Firestore: Postgres gets Firestore's record (or its tombstone) with a new version from
the user's counter, so that clients' sync sees the repair (versions only grow). Source
Postgres: Firestore gets Postgres's record as the backend writes it (`_v`, `_writer`); a
document Postgres does not have becomes a tombstone. Erased users are never written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.firestore import layout
from datastore.firestore.mapping import focus_sessions, users
from datastore.firestore.repositories.common import Documents, mark_deleted, replace_fields
from datastore.firestore.store import FirestoreStore
from datastore.postgres import verify_reads
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import Clock
from domain.migration import Entity, Store
from migration.verify.compare import Divergent

NO_TOMBSTONE = "no_tombstone_in_postgres"
"""Users and usage reports have no tombstone in Postgres: an extra one is left to an operator."""
INTEGRITY = "integrity"
"""Postgres refused the write (a schedule whose blocklist it lacks: repair blocklists first)."""


class Repairer:
    def __init__(
        self,
        engine: AsyncEngine,
        store: FirestoreStore,
        documents: Documents,
        *,
        source: Store,
        erased: frozenset[str],
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._store = store
        self._docs = documents
        self.source = source
        self._erased = erased
        self._clock = clock
        self.repaired = 0
        self.unrepaired: Counter[str] = Counter()
        """Records left divergent, by reason."""

    async def repair(self, entity: Entity, divergent: Divergent) -> None:
        if divergent.uid in self._erased:
            return  # never written again, from any source
        if self.source is Store.FIRESTORE:
            await self._postgres(entity, divergent)
        else:
            await self._firestore(entity, divergent)

    async def _postgres(self, entity: Entity, d: Divergent) -> None:
        theirs = d.firestore
        live = theirs is not None and theirs.record is not None
        if not live and entity in (Entity.USERS, Entity.USAGE):
            self.unrepaired[NO_TOMBSTONE] += 1
            return
        try:
            async with PostgresUnitOfWork(self._engine) as uow:
                version = await uow.next_version(d.uid)
                if theirs is not None and theirs.record is not None:
                    await _save_postgres(uow, entity, d, replace(theirs.record, version=version))
                else:
                    await self._delete_postgres(uow, entity, d, version)
                await uow.commit()
        except IntegrityError:
            self.unrepaired[INTEGRITY] += 1
            return
        self.repaired += 1

    async def _delete_postgres(
        self, uow: PostgresUnitOfWork, entity: Entity, d: Divergent, version: int
    ) -> None:
        now = self._clock()
        match entity:
            case Entity.DEVICES:
                await uow.devices.delete(d.uid, d.key, version)
            case Entity.BLOCKLISTS:
                await uow.blocklists.delete(d.uid, UUID(d.key), version, now)
            case Entity.SCHEDULES:
                await uow.schedules.delete(d.uid, UUID(d.key), version, now)
            case Entity.FOCUS_SESSIONS:
                await verify_reads.delete_session(uow.connection, d.uid, UUID(d.key), version, now)

    async def _firestore(self, entity: Entity, d: Divergent) -> None:
        ours = d.postgres
        if ours is not None and not ours.deleted:
            await self._save_firestore(entity, ours.record)
        else:
            version = ours.version if ours is not None else await self._next_version(d)
            await self._delete_firestore(entity, d, version)
        self.repaired += 1

    async def _next_version(self, d: Divergent) -> int:
        """The user's next version; when Postgres has no such user, one above the document's."""
        async with self._engine.begin() as conn:
            version = await verify_reads.next_version_if_user(conn, d.uid)
        known = d.firestore.version if d.firestore is not None else 0
        return version if version is not None else known + 1

    async def _save_firestore(self, entity: Entity, record: Any) -> None:
        match entity:
            case Entity.USERS:
                # The port's save is an UPDATE that keeps `createdAt`: write the whole user.
                await replace_fields(self._docs.user(record.uid), users.to_document(record))
            case Entity.FOCUS_SESSIONS:
                # The port's save is an UPDATE: it neither creates nor revives a document.
                reference = await self._docs.reference_of(
                    record.user_id, layout.SESSIONS, record.id
                )
                document = focus_sessions.to_document(record, self._docs.client)
                await replace_fields(reference, document)
            case Entity.DEVICES:
                await self._store.devices.save(record)
            case Entity.BLOCKLISTS:
                await self._store.blocklists.save(record)
            case Entity.SCHEDULES:
                await self._store.schedules.save(record)
            case Entity.USAGE:
                await self._store.usage.save(record)

    async def _delete_firestore(self, entity: Entity, d: Divergent, version: int) -> None:
        now = self._clock()
        match entity:
            case Entity.DEVICES:
                await self._store.devices.delete(d.uid, d.key, version)
            case Entity.BLOCKLISTS:
                await self._store.blocklists.delete(d.uid, UUID(d.key), version, now)
            case Entity.SCHEDULES:
                await self._store.schedules.delete(d.uid, UUID(d.key), version, now)
            case Entity.USERS:
                await mark_deleted(self._docs.user(d.uid), version, now)
            case Entity.FOCUS_SESSIONS:
                reference = await self._docs.reference_of(d.uid, layout.SESSIONS, UUID(d.key))
                await mark_deleted(reference, version, now, updatedAt=now)
            case Entity.USAGE:
                day, installation_id = d.key.split("/", 1)
                doc_id = f"{day}_{installation_id}"
                reference = self._docs.collection(d.uid, layout.USAGE).document(doc_id)
                await mark_deleted(reference, version, now)


async def _save_postgres(
    uow: PostgresUnitOfWork, entity: Entity, d: Divergent, record: Any
) -> None:
    exists = d.postgres is not None
    match entity:
        case Entity.USERS:
            await uow.users.save(record)  # its row exists: `next_version` made it
        case Entity.DEVICES:
            await uow.devices.save(record)
        case Entity.BLOCKLISTS:
            await uow.blocklists.save(record)
        case Entity.SCHEDULES:
            await uow.schedules.save(record)
        case Entity.FOCUS_SESSIONS:
            await (uow.focus_sessions.save if exists else uow.focus_sessions.add)(record)
        case Entity.USAGE:
            await uow.usage.save(record)
    await verify_reads.restore_row(uow.connection, entity, d.uid, d.key, record.created_at)
