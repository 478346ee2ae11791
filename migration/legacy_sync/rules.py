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
6. an applied change records the event an API write of the entity records, without origin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from google.cloud.firestore_v1.base_document import BaseDocumentReference

from datastore.firestore.layout import BACKEND_WRITER, DELETED_AT_FIELD, USERS
from datastore.firestore.mapping.common import MappingContext, Unmappable, utc, version_of
from datastore.postgres.legacy_sync import RecordState
from domain.events import DomainEvent
from functions.legacy_change import LegacyChange, Reference, Timestamp
from migration.legacy_sync.ports import LegacySyncUnitOfWork
from migration.legacy_sync.records import RecordKind

DELETE_UNSUPPORTED = "delete_unsupported"
"""The unmappable reason of a legacy delete of an entity the backend never deletes."""


class Outcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    """A legacy write that changed nothing we map (an unknown field, a repeated value)."""
    STALE = "stale"
    OWN_MIRROR = "own_mirror"
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


async def sync_change(
    uow: LegacySyncUnitOfWork, kind: RecordKind[Any], change: LegacyChange, now: dt.datetime
) -> Result:
    """Decides and writes one change; the caller commits."""
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
        return await _apply(uow, kind, change, before_time, now)
    except Unmappable as unmappable:
        return Result(Outcome.UNMAPPABLE, str(unmappable.reason), unmappable.field)


async def _apply(
    uow: LegacySyncUnitOfWork,
    kind: RecordKind[Any],
    change: LegacyChange,
    before_time: dt.datetime,
    now: dt.datetime,
) -> Result:
    uid, doc_id = change.uid, change.doc_id
    context = await kind.context(uow, uid, now)
    target = _mapped(kind, change, change.after, change.update_time, context)
    if target is None and not kind.deletes:
        return Result(Outcome.UNMAPPABLE, DELETE_UNSUPPORTED)
    state = await uow.legacy.state(kind.entity, kind.key(uid, doc_id))
    current = await kind.get(uow, uid, doc_id)
    if _own_mirror(kind, change, state, current, target):
        return Result(Outcome.OWN_MIRROR)
    if _unchanged(kind, state, current, target):
        return Result(Outcome.UNCHANGED)
    if not _based_on_postgres(kind, change, state, current, _Mapped(before_time, context)):
        return Result(Outcome.LOST_RACE)
    version = await uow.next_version(uid)
    if target is None:
        event_type = await kind.delete(uow, uid, doc_id, version, _deleted_at(change))
    else:
        event_type = await kind.save(uow, replace(target, version=version), current)
    assert event_type is not None, "a kind that deletes names the event of its delete"
    await uow.outbox.add(DomainEvent(event_type, uid, kind.subject(uid, doc_id), version, now))
    return Result(Outcome.APPLIED)


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
