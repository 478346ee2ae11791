"""The legacy-change rules (ADR 0012, decision 4), applied to one change in one transaction.

In order, under the user's row lock:
1. an erased user's change is dropped: nothing of theirs is written again;
2. a change not newer (Firestore `update_time`, per document) than the last one applied is a
   duplicate or arrived late: dropped; otherwise the document's position moves, in this
   transaction, whatever is decided next (an older change must not apply after a newer one
   that was unmappable or lost);
3. our own mirror (`_writer: backend`, `_v` = the row's version, the same content) is ignored.
   The marker alone proves nothing: a legacy `update` of a mirrored document keeps it;
4. otherwise it is a legacy edit made on top of `before`: applied with a new version when
   Postgres has no row, a version no newer than `before._v` (0: never mirrored), or the
   content of `before` (the edit was made on what Postgres has). When Postgres is newer, an
   API write won the race: the edit is dropped, and that write's pending mirror overwrites
   the document;
5. a delete (or a document with `deletedAt`) becomes a tombstone by the same rules;
6. an applied change records the event an API write of the entity records, without origin;
7. while the entity's phase writes Firestore, what was applied is owed back to Firestore in the
   same transaction, at the version it was given (`_v`, `_writer: backend`): Firestore's
   version never trails Postgres's, so a read of either store serves the edit at the same
   version, and an older mirror still pending finds a newer document and changes nothing. A
   document the old app removed stays removed: the record's pending mirrors are dropped
   instead (the tombstone is in Postgres; old apps do not know `deletedAt`);
8. a mirror of ours older than Postgres's record (a retry that landed on an old app's `set`,
   which drops `_v`, before that edit's own mirror) is no legacy edit: Firestore is owed the
   record as Postgres has it again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_document import BaseDocumentReference

from domain.events import DomainEvent
from domain.migration import Entity, PendingMirror, RecordState
from functions.legacy_change import LegacyChange, Reference, Timestamp
from migration.firestore.layout import BACKEND_WRITER, DELETED_AT_FIELD, USERS
from migration.firestore.mapping.common import MappingContext, Unmappable, utc, version_of
from migration.firestore.mirrors import mirror_of_delete, mirror_of_save
from migration.legacy_sync.ports import LegacySyncUnitOfWork
from migration.legacy_sync.records import RecordKind
from migration.mirroring import GRACE

DELETE_UNSUPPORTED = "delete_unsupported"
"""The unmappable reason of a legacy delete of an entity the backend never deletes."""


class Outcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    """A legacy write that changed nothing we map (an unknown field, a repeated value)."""
    STALE = "stale"
    OWN_MIRROR = "own_mirror"
    STALE_MIRROR = "stale_mirror"
    """A mirror of ours older than Postgres's record: Firestore is owed the record again."""
    LOST_RACE = "lost_race"
    ERASED = "erased"
    UNMAPPABLE = "unmappable"
    PHASE_SKIPPED = "phase_skipped"
    UNDECODABLE = "undecodable"
    FAILED = "failed"
    """A transient failure: not acknowledged, Pub/Sub delivers it again."""


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    reason: str | None = None
    """Why it is unmappable (a `QuarantineReason`, or `delete_unsupported`)."""
    field: str | None = None
    owed: tuple[PendingMirror, ...] = ()
    """Firestore mirrors recorded with the change, to apply once it is committed."""


@dataclass(frozen=True, slots=True)
class Owed:
    """How the sync builds what Firestore is owed for its writes (rule 7)."""

    client: AsyncClient
    """Makes the document references mirrored documents hold."""

    def save(self, entity: Entity, record: Any) -> PendingMirror:
        return mirror_of_save(entity, record, self.client)

    def tombstone(
        self, entity: Entity, uid: str, key: str, version: int, at: dt.datetime
    ) -> PendingMirror:
        return mirror_of_delete(entity, uid, key, version, at)


async def sync_change(
    uow: LegacySyncUnitOfWork,
    kind: RecordKind[Any],
    change: LegacyChange,
    now: dt.datetime,
    owed: Owed | None = None,
) -> Result:
    """Decides and writes one change; the caller commits. `owed`: the entity's phase writes
    Firestore, which is owed what is written (rules 7 and 8)."""
    if await uow.legacy.is_erased(change.uid):
        return Result(Outcome.ERASED)
    await uow.users.ensure(change.uid)  # the positions (and every record) hang off the user
    await uow.lock_user(change.uid)
    path, update_time = _position(change), change.update_time.rfc3339()
    previous = await uow.legacy.position(change.uid, path)
    if previous is not None and update_time <= previous:
        return Result(Outcome.STALE)
    await uow.legacy.advance(change.uid, path, update_time)
    # In order, the last applied change is the one that left `before`: its update_time is
    # `before`'s, which the mapping needs where a field falls back to it (no `updatedAt`).
    before_time = Timestamp.parse(previous) if previous else change.update_time
    try:
        return await _apply(uow, kind, change, before_time, now, owed)
    except Unmappable as unmappable:
        return Result(Outcome.UNMAPPABLE, str(unmappable.reason), unmappable.field)


async def _apply(
    uow: LegacySyncUnitOfWork,
    kind: RecordKind[Any],
    change: LegacyChange,
    before_time: dt.datetime,
    now: dt.datetime,
    owed: Owed | None,
) -> Result:
    uid, doc_id = change.uid, change.doc_id
    state = await uow.legacy.state(kind.entity, kind.key(uid, doc_id))
    current = await kind.get(uow, uid, doc_id)
    if _stale_mirror(change, state):
        if owed is None or state is None:
            return Result(Outcome.STALE_MIRROR)
        if current is not None:
            again = owed.save(kind.entity, current)
        else:
            at = _deleted_at(change)
            again = owed.tombstone(kind.entity, uid, kind.subject(uid, doc_id), state.version, at)
        return Result(Outcome.STALE_MIRROR, owed=(await _owe(uow, again),))
    context = await kind.context(uow, uid, now)
    target = _mapped(kind, change, change.after, change.update_time, context)
    if target is None and not kind.deletes:
        return Result(Outcome.UNMAPPABLE, DELETE_UNSUPPORTED)
    if _own_mirror(kind, change, state, current, target):
        return Result(Outcome.OWN_MIRROR)
    if _unchanged(kind, state, current, target):
        return Result(Outcome.UNCHANGED)
    if not _based_on_postgres(kind, change, state, current, _Mapped(before_time, context)):
        return Result(Outcome.LOST_RACE)
    version = await uow.next_version(uid)
    key = kind.subject(uid, doc_id)
    mirrors: list[PendingMirror] = []
    if target is None:
        at = _deleted_at(change)
        event_type = await kind.delete(uow, uid, doc_id, version, at)
        if owed is not None and change.after is None:
            await uow.legacy.forget_owed(kind.entity, uid, key)  # removed: it stays removed
        elif owed is not None:
            mirrors.append(owed.tombstone(kind.entity, uid, key, version, at))
    else:
        saved = await kind.save(uow, replace(target, version=version), current)
        event_type = saved.event_type
        if owed is not None:
            mirrors.extend(owed.save(entity, record) for entity, record in saved.records)
    assert event_type is not None, "a kind that deletes names the event of its delete"
    await uow.outbox.add(DomainEvent(event_type, uid, key, version, now))
    return Result(Outcome.APPLIED, owed=tuple([await _owe(uow, m) for m in mirrors]))


async def _owe(uow: LegacySyncUnitOfWork, mirror: PendingMirror) -> PendingMirror:
    return await uow.legacy.owe(mirror, due_in=GRACE)


def _position(change: LegacyChange) -> str:
    """The document's path below the user (`` for `users/{uid}` itself)."""
    return "" if change.collection == USERS else f"{change.collection}/{change.doc_id}"


def _mapped(
    kind: RecordKind[Any],
    change: LegacyChange,
    data: dict[str, Any] | None,
    update_time: dt.datetime,
    context: MappingContext,
) -> Any:
    """The record a document holds; None for no document or a tombstone."""
    if data is None or data.get(DELETED_AT_FIELD) is not None:
        return None
    return kind.from_document(
        change.uid,
        change.doc_id,
        {name: _client_value(value) for name, value in data.items()},
        create_time=change.create_time or change.update_time,
        update_time=update_time,
        context=context,
    )


@dataclass(frozen=True, slots=True)
class _Mapped:
    """How to map `before`: its own update_time, and the context."""

    update_time: dt.datetime
    context: MappingContext


def _client_value(value: Any) -> Any:
    """A decoded message value as the Firestore client reads it, which is what the mapping
    takes: a reference becomes a DocumentReference (no client needed for its path)."""
    if isinstance(value, Reference):
        return BaseDocumentReference(*value.path.split("/"), client=None)
    if isinstance(value, dict):
        return {name: _client_value(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_client_value(item) for item in value]
    return value


def _same(kind: RecordKind[Any], a: Any, b: Any) -> bool:
    return bool(kind.comparable(a) == kind.comparable(b))


def _own_mirror(
    kind: RecordKind[Any],
    change: LegacyChange,
    state: RecordState | None,
    current: Any,
    target: Any,
) -> bool:
    if change.writer != BACKEND_WRITER or state is None:
        return False
    if version_of(change.after or {}) != state.version:
        return False
    if target is None:
        return state.deleted
    return current is not None and _same(kind, target, current)


def _stale_mirror(change: LegacyChange, state: RecordState | None) -> bool:
    """Our write (it raised `_v`: old apps never write it) of a version Postgres has passed."""
    if change.writer != BACKEND_WRITER or state is None or change.after is None:
        return False
    written = version_of(change.after)
    return version_of(change.before or {}) < written < state.version


def _unchanged(kind: RecordKind[Any], state: RecordState | None, current: Any, target: Any) -> bool:
    if target is None:
        return state is None or state.deleted  # nothing left to delete
    return current is not None and _same(kind, target, current)


def _based_on_postgres(
    kind: RecordKind[Any],
    change: LegacyChange,
    state: RecordState | None,
    current: Any,
    before: _Mapped,
) -> bool:
    """Whether the legacy edit was made on top of what Postgres has (else an API write that
    Firestore has not seen yet is newer, and wins)."""
    if state is None:
        return True
    base = version_of(change.before) if change.before is not None else 0
    if state.version <= base:
        return True
    try:
        based_on = _mapped(kind, change, change.before, before.update_time, before.context)
    except Unmappable:
        return False
    return based_on is not None and current is not None and _same(kind, based_on, current)


def _deleted_at(change: LegacyChange) -> dt.datetime:
    marked = (change.after or {}).get(DELETED_AT_FIELD)
    return utc(marked) if isinstance(marked, dt.datetime) else utc(change.update_time)
