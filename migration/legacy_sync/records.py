"""Each legacy collection as the sync writes it: the record's key in Postgres, the repository
calls, and the event an API write of that entity records (docs/events.md); the collection and
its mapping are the entity's binding (`migration/entities.py`).

Users, focus sessions and usage reports have no delete in their repositories (the API deletes
none of them), so a legacy delete of one is not applied: `delete` returns None.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, TypeVar

from domain.blocklists.model import Blocklist, ItemKind
from domain.devices.model import Device
from domain.events import DomainEvent, EventType
from domain.focus_sessions.model import FocusSession
from domain.migration import Entity
from domain.schedules.model import Schedule
from domain.sync.model import usage_report_id
from domain.usage.model import UsageReport
from domain.users.model import User
from migration.entities import BINDINGS
from migration.firestore.layout import (
    BLOCKLISTS,
    SCHEDULES,
    SESSIONS,
    QuarantineReason,
    parse_usage_doc_id,
    record_id,
)
from migration.firestore.mapping import focus_sessions
from migration.firestore.mapping.common import MappingContext, Unmappable
from migration.firestore.repositories.common import FromDocument
from migration.legacy_sync.ports import LegacySyncUnitOfWork

R = TypeVar("R")
UoW = LegacySyncUnitOfWork
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Saved:
    event_type: EventType
    """The type of the event an API write records."""
    records: tuple[tuple[Entity, Any], ...]
    """Every record written, at its new version: the saved one, and any other the save
    changed (a session's start ends the one still running)."""


class RecordKind(Generic[R]):
    entity: ClassVar[Entity]
    needs_user_timezone: ClassVar[bool] = False
    needs_blocklists: ClassVar[bool] = False
    deletes: ClassVar[bool] = False
    """Whether the repository has a delete (a tombstone) for a legacy delete to become."""

    def __init__(self) -> None:
        binding = BINDINGS[self.entity]
        self.collection = binding.collection
        self.from_document: FromDocument[R] = binding.from_document
        """The backfill's mapping of the collection (`migration/firestore/mapping/`)."""

    def key(self, uid: str, doc_id: str) -> dict[str, object]:
        """The record's primary key columns (raises `Unmappable` for an invalid id)."""
        return {"user_id": uid, "id": record_id(uid, self.collection, doc_id)}

    def subject(self, uid: str, doc_id: str) -> str:
        return str(record_id(uid, self.collection, doc_id))

    async def context(self, uow: UoW, uid: str, as_of: dt.datetime) -> MappingContext:
        """What mapping this collection needs, read from Postgres (never from Firestore: the
        sync must not depend on a store the legacy app may still be writing)."""
        user = await uow.users.get(uid) if self.needs_user_timezone else None
        known = await uow.legacy.blocklist_ids(uid) if self.needs_blocklists else None
        return MappingContext(
            as_of=as_of, user_timezone=user.timezone if user else None, blocklist_ids=known
        )

    def comparable(self, record: R) -> R:
        """What equal content means: the version is the write's, and Postgres keeps a row's
        first `created_at` whatever a re-save says."""
        compared: R = replace(record, version=0, created_at=_EPOCH)  # type: ignore[type-var]
        return compared

    async def get(self, uow: UoW, uid: str, doc_id: str) -> R | None:
        raise NotImplementedError

    async def save(self, uow: UoW, record: R, existing: R | None) -> Saved:
        """Writes the record; says what was written and the event an API write records."""
        raise NotImplementedError

    def saved(self, event_type: EventType, *records: Any) -> Saved:
        return Saved(event_type, tuple((self.entity, record) for record in records))

    async def delete(
        self, uow: UoW, uid: str, doc_id: str, version: int, at: dt.datetime
    ) -> EventType | None:
        """Tombstones the record; the event's type, or None when this entity has no delete."""
        return None


class UserKind(RecordKind[User]):
    entity = Entity.USERS

    def key(self, uid: str, doc_id: str) -> dict[str, object]:
        return {"uid": uid}

    def subject(self, uid: str, doc_id: str) -> str:
        return uid

    async def context(self, uow: UoW, uid: str, as_of: dt.datetime) -> MappingContext:
        seen = sorted(await uow.devices.list(uid), key=lambda d: d.last_seen_at, reverse=True)
        zones = tuple(device.timezone for device in seen if device.timezone)
        return MappingContext(as_of=as_of, device_timezones=zones)

    async def get(self, uow: UoW, uid: str, doc_id: str) -> User | None:
        return await uow.users.get(uid)

    async def save(self, uow: UoW, record: User, existing: User | None) -> Saved:
        await uow.users.save(record)  # the row exists: the sync ensures it first
        # ... at its own time, which is later than the profile's when an old app made it.
        first = min(record.created_at, existing.created_at) if existing else record.created_at
        await uow.legacy.created_no_later_than(record.uid, first)
        return self.saved(EventType.PROFILE_UPDATED, replace(record, created_at=first))


class DeviceKind(RecordKind[Device]):
    entity = Entity.DEVICES
    deletes = True

    def key(self, uid: str, doc_id: str) -> dict[str, object]:
        return {"user_id": uid, "installation_id": doc_id}

    def subject(self, uid: str, doc_id: str) -> str:
        return doc_id

    async def get(self, uow: UoW, uid: str, doc_id: str) -> Device | None:
        return await uow.devices.get(uid, doc_id)

    async def save(self, uow: UoW, record: Device, existing: Device | None) -> Saved:
        await uow.devices.save(record)
        return self.saved(
            EventType.DEVICE_REGISTERED if existing is None else EventType.DEVICE_UPDATED, record
        )

    async def delete(
        self, uow: UoW, uid: str, doc_id: str, version: int, at: dt.datetime
    ) -> EventType | None:
        await uow.devices.delete(uid, doc_id, version)
        return EventType.DEVICE_REMOVED


_ITEM_GROUPS = {
    ItemKind.ANDROID_PACKAGE: 0,
    ItemKind.IOS_TOKEN: 0,
    ItemKind.WEB_DOMAIN: 1,
    ItemKind.CATEGORY: 2,
}


class BlocklistKind(RecordKind[Blocklist]):
    entity = Entity.BLOCKLISTS
    deletes = True

    def comparable(self, record: Blocklist) -> Blocklist:
        # The layout keeps items as apps, sites, categories: that order is all it can hold.
        grouped = tuple(sorted(record.items, key=lambda item: _ITEM_GROUPS[item.kind]))
        return replace(super().comparable(record), items=grouped)

    async def get(self, uow: UoW, uid: str, doc_id: str) -> Blocklist | None:
        return await uow.blocklists.get(uid, record_id(uid, BLOCKLISTS, doc_id))

    async def save(self, uow: UoW, record: Blocklist, existing: Blocklist | None) -> Saved:
        await uow.blocklists.save(record)
        return self.saved(
            EventType.BLOCKLIST_CREATED if existing is None else EventType.BLOCKLIST_UPDATED, record
        )

    async def delete(
        self, uow: UoW, uid: str, doc_id: str, version: int, at: dt.datetime
    ) -> EventType | None:
        # Unlike the API, a schedule still using it does not refuse: the legacy app already
        # deleted the document, and the schedule's row keeps its key (a soft delete).
        await uow.blocklists.delete(uid, record_id(uid, BLOCKLISTS, doc_id), version, at)
        return EventType.BLOCKLIST_DELETED


class ScheduleKind(RecordKind[Schedule]):
    entity = Entity.SCHEDULES
    needs_user_timezone = needs_blocklists = deletes = True

    async def get(self, uow: UoW, uid: str, doc_id: str) -> Schedule | None:
        return await uow.schedules.get(uid, record_id(uid, SCHEDULES, doc_id))

    async def save(self, uow: UoW, record: Schedule, existing: Schedule | None) -> Saved:
        await uow.schedules.save(record)
        return self.saved(
            EventType.SCHEDULE_CREATED if existing is None else EventType.SCHEDULE_UPDATED, record
        )

    async def delete(
        self, uow: UoW, uid: str, doc_id: str, version: int, at: dt.datetime
    ) -> EventType | None:
        await uow.schedules.delete(uid, record_id(uid, SCHEDULES, doc_id), version, at)
        return EventType.SCHEDULE_DELETED


class FocusSessionKind(RecordKind[FocusSession]):
    entity = Entity.FOCUS_SESSIONS
    needs_user_timezone = needs_blocklists = True

    async def get(self, uow: UoW, uid: str, doc_id: str) -> FocusSession | None:
        return await uow.focus_sessions.get(uid, record_id(uid, SESSIONS, doc_id))

    async def save(self, uow: UoW, record: FocusSession, existing: FocusSession | None) -> Saved:
        record, ended = await _one_running(uow, record)
        if existing is None:
            await uow.focus_sessions.add(record)
        else:
            await uow.focus_sessions.save(record)
        return self.saved(record.event_type, record, *ended)


async def _one_running(
    uow: UoW, session: FocusSession
) -> tuple[FocusSession, tuple[FocusSession, ...]]:
    """A user has one running session (a unique index says so): as the backfill does, the
    newest stays running and the other ends at its planned end or the newer one's start.
    The session to save, and the one ended for it (if any), already saved."""
    running = await uow.focus_sessions.running(session.user_id)
    if session.outcome is not None or running is None or running.id == session.id:
        return session, ()
    settled = {s.id: s for s in focus_sessions.settle_running([running, session])}
    if settled[running.id] == running:
        return settled[session.id], ()
    version = await uow.next_version(session.user_id)
    ended = replace(settled[running.id], version=version)
    await uow.focus_sessions.save(ended)
    occurred = ended.ended_at or ended.updated_at
    event = DomainEvent(ended.event_type, ended.user_id, str(ended.id), version, occurred)
    await uow.outbox.add(event)
    return settled[session.id], (ended,)


class UsageKind(RecordKind[UsageReport]):
    entity = Entity.USAGE

    def key(self, uid: str, doc_id: str) -> dict[str, object]:
        day, installation_id = _usage_id(doc_id)
        return {"user_id": uid, "installation_id": installation_id, "date": day}

    def subject(self, uid: str, doc_id: str) -> str:
        return usage_report_id(*_usage_id(doc_id))

    async def get(self, uow: UoW, uid: str, doc_id: str) -> UsageReport | None:
        day, installation_id = _usage_id(doc_id)
        return await uow.usage.get(uid, installation_id, day)

    async def save(self, uow: UoW, record: UsageReport, existing: UsageReport | None) -> Saved:
        await uow.usage.save(record)
        return self.saved(EventType.USAGE_REPORTED, record)


def _usage_id(doc_id: str) -> tuple[dt.date, str]:
    try:
        return parse_usage_doc_id(doc_id)
    except ValueError as error:
        raise Unmappable(QuarantineReason.INVALID_ID, "documentId") from error


KINDS: dict[str, RecordKind[Any]] = {
    kind.collection: kind
    for kind in (
        UserKind(),
        DeviceKind(),
        BlocklistKind(),
        ScheduleKind(),
        FocusSessionKind(),
        UsageKind(),
    )
}
"""By legacy collection name."""

__all__ = ["KINDS", "RecordKind", "Saved"]
