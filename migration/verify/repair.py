"""Repairing the follower store from the phase's source of truth, record by divergent record.

A repair is a write like any other, by the rule the whole migration rests on: a record's
version only grows, in both stores. Source Firestore: Postgres gets Firestore's record (or its
tombstone) with a new version from the user's counter, so that clients' sync sees the repair,
and the document gets that version back (`_v`, `_writer`); a record whose document is gone is
deleted in Postgres and its pending mirrors dropped, so nothing brings the document back.
Source Postgres: Firestore gets Postgres's record through the mirrors' conditional write (a
document Postgres does not have becomes a tombstone); where the document's version is not
below Postgres's, Postgres first gives the record a new one. Every Firestore write is a
pending mirror first (`pending_mirrors`), so a repair cut short is finished by the repair
loop. Erased users are never written.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.common import Clock
from domain.migration import Entity, PendingMirror, Store
from migration.entities import BINDINGS
from migration.firestore.mirrors import FirestoreMirrorWriter, mirror_of_delete, mirror_of_save
from migration.firestore.repositories.common import Documents
from migration.mirroring import GRACE, Mirroring
from migration.postgres import verify_reads
from migration.postgres.pending_mirrors import PostgresMirrorQueue, PostgresPendingMirrors
from migration.verify.compare import Divergent

FIRESTORE_FAILED = "firestore_failed"
"""Firestore did not take the repair now: it stays pending, and the repair loop retries it."""
NO_TOMBSTONE = "no_tombstone_in_postgres"
"""Users and usage reports have no tombstone in Postgres: an extra one is left to an operator."""
INTEGRITY = "integrity"
"""Postgres refused the write (a schedule whose blocklist it lacks: repair blocklists first)."""


class Repairer:
    def __init__(
        self,
        engine: AsyncEngine,
        documents: Documents,
        *,
        source: Store,
        erased: frozenset[str],
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._client = documents.client
        queue = PostgresMirrorQueue(engine, clock=clock)
        self._mirroring = Mirroring(queue, FirestoreMirrorWriter(self._client, documents))
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
        if not live and not BINDINGS[entity].keeps_tombstones:
            self.unrepaired[NO_TOMBSTONE] += 1
            return
        try:
            async with PostgresUnitOfWork(self._engine) as uow:
                owed = PostgresPendingMirrors(uow.connection, clock=self._clock)
                await uow.users.ensure(d.uid)
                version = await self._above(uow, d)
                mirror: PendingMirror | None = None
                if theirs is not None and theirs.record is not None:
                    record = replace(theirs.record, version=version)
                    await _save_postgres(uow, entity, d, record)
                    mirror = mirror_of_save(entity, record, self._client)
                elif theirs is None:
                    # No document: it stays so, and no older mirror may bring it back.
                    await self._delete_postgres(uow, entity, d, version)
                    await owed.forget(entity, d.uid, _document_id(entity, d))
                else:
                    at = await self._delete_postgres(uow, entity, d, version)
                    mirror = mirror_of_delete(entity, d.uid, _document_id(entity, d), version, at)
                if mirror is not None:
                    # Firestore gets the version Postgres gave the repair: its `_v` never
                    # trails Postgres's, and an older mirror still pending changes nothing.
                    mirror = await owed.record(mirror, due_in=GRACE)
                await uow.commit()
        except IntegrityError:
            self.unrepaired[INTEGRITY] += 1
            return
        if mirror is not None:
            await self._mirroring.apply([mirror], path="verify")
        self.repaired += 1

    async def _delete_postgres(
        self, uow: PostgresUnitOfWork, entity: Entity, d: Divergent, version: int
    ) -> dt.datetime:
        now = self._clock()
        delete = BINDINGS[entity].delete
        if delete is not None:
            await delete(uow, d.uid, d.key, version, now)
        return now

    async def _firestore(self, entity: Entity, d: Divergent) -> None:
        """Firestore gets Postgres's record (or a tombstone) through the mirrors' conditional
        write, at a version above the document's: a repair that races a newer write changes
        nothing, and never puts an older version over a newer one."""
        ours, theirs = d.postgres, d.firestore
        below = theirs.version if theirs is not None else 0
        async with PostgresUnitOfWork(self._engine) as uow:
            owed = PostgresPendingMirrors(uow.connection, clock=self._clock)
            if ours is not None and ours.record is not None and not ours.deleted:
                record = ours.record
                if record.version <= below:  # Firestore is ahead by its count: write anew
                    record = replace(record, version=await self._above(uow, d))
                    await _save_postgres(uow, entity, d, record)
                mirror = mirror_of_save(entity, record, self._client)
            else:
                version = ours.version if ours is not None else 0
                if version <= below:
                    above = await verify_reads.next_version_above(uow.connection, d.uid, below)
                    version = above if above is not None else below + 1
                key = _document_id(entity, d)
                mirror = mirror_of_delete(entity, d.uid, key, version, self._clock())
            mirror = await owed.record(mirror, due_in=GRACE)
            await uow.commit()
        if not await self._mirroring.apply([mirror], path="verify"):
            self.unrepaired[FIRESTORE_FAILED] += 1
            return
        self.repaired += 1

    @staticmethod
    async def _above(uow: PostgresUnitOfWork, d: Divergent) -> int:
        """The user's next version, above the document's too: the repair is the newest write."""
        floor = d.firestore.version if d.firestore is not None else 0
        version = await verify_reads.next_version_above(uow.connection, d.uid, floor)
        assert version is not None, "the user's row exists"
        return version


def _document_id(entity: Entity, d: Divergent) -> str:
    """The key a mirror names the record by (verify's key is the same but for profiles and
    usage reports)."""
    return BINDINGS[entity].document_id(d.uid, d.key)


async def _save_postgres(
    uow: PostgresUnitOfWork, entity: Entity, d: Divergent, record: Any
) -> None:
    await BINDINGS[entity].save(uow, record, d.postgres is not None)
    await verify_reads.restore_row(uow.connection, entity, d.uid, d.key, record.created_at)
