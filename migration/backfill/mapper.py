"""A page of Firestore documents → a batch of records and quarantine entries.

Each document is mapped by its entity's `from_document` with the context the layout asks for:
whether `users/{uid}` exists (else the document is an orphan), the user's timezone after its
device fallback (read from Firestore, as the Firestore repositories do), and for schedules and
sessions the user's blocklists as Postgres holds them. Blocklists are backfilled before them,
so Postgres has exactly the mappable ones (a quarantined blocklist is then dangling, as the
layout says), and the schedules' foreign key is checked against those very rows.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from google.cloud.firestore import AsyncClient
from google.cloud.firestore_v1.base_document import BaseDocumentReference

from domain.focus_sessions.model import FocusSession
from domain.migration import Entity
from migration.backfill.reader import Snapshot, owner
from migration.entities import BINDINGS
from migration.firestore import layout
from migration.firestore.mapping import focus_sessions, users
from migration.firestore.mapping.common import (
    BadValue,
    MappingContext,
    Unmappable,
    parse_instant,
    utc,
)
from migration.firestore.repositories.common import Documents, lacks_timezone, mapped
from migration.postgres.backfill import BackfillRecord, Batch, QuarantinedDocument

BlocklistIds = Callable[[Iterable[str]], Awaitable[dict[str, frozenset[UUID]]]]


@dataclass(frozen=True, slots=True)
class _Owner:
    exists: bool
    timezone: str | None = None
    blocklist_ids: frozenset[UUID] | None = None


class PageMapper:
    """Maps pages of one run; `extra_reads` counts the Firestore reads beyond the pages."""

    def __init__(
        self,
        client: AsyncClient,
        blocklist_ids: BlocklistIds,
        *,
        as_of: dt.datetime,
        counts: Counter[str],
        remember_blocklists: bool = False,
    ) -> None:
        self._client = client
        self._documents = Documents(client, lambda: as_of, Counter())
        self._blocklist_ids = blocklist_ids
        self._as_of = as_of
        self.counts = counts
        """Defaults applied, entries dropped, unknown fields: `collection.field:what`."""
        self.extra_reads = 0
        self._remember_blocklists = remember_blocklists
        self.mapped_blocklists: dict[str, set[UUID]] = {}
        """With `remember_blocklists`, the blocklists this run mapped, by uid: a dry run has not
        written them to Postgres, where schedules and sessions would look for them."""
        self._settled: dict[str, dict[UUID, FocusSession]] = {}

    async def batch(self, entity: Entity, snapshots: list[Snapshot]) -> Batch:
        mine = [(uid, snap) for snap in snapshots if (uid := owner(snap)) is not None]
        owners = await self._owners(entity, sorted({uid for uid, _ in mine}))
        records: list[BackfillRecord] = []
        quarantined: list[QuarantinedDocument] = []
        for uid, snapshot in mine:
            try:
                records.append(await self._record(entity, uid, snapshot, owners.get(uid)))
            except Unmappable as unmappable:
                quarantined.append(_quarantined(uid, snapshot, unmappable))
        last_path = snapshots[-1].reference.path
        return Batch(last_path, len(snapshots), records, quarantined)

    async def _record(
        self, entity: Entity, uid: str, snapshot: Snapshot, user: _Owner | None
    ) -> BackfillRecord:
        data = snapshot.to_dict() or {}
        context = await self._context(entity, uid, data, user)
        record = mapped(BINDINGS[entity].from_document, uid, snapshot, data, context)
        if entity is Entity.BLOCKLISTS and self._remember_blocklists:
            self.mapped_blocklists.setdefault(uid, set()).add(record.id)
        if entity is Entity.FOCUS_SESSIONS and record.is_running:
            record = await self._settle(uid, record, context)
        return BackfillRecord(
            path=snapshot.reference.path,
            user_id=uid,
            record=record,
            source_version=record.version,
            deleted_at=_deleted_at(data, snapshot),
        )

    async def _context(
        self, entity: Entity, uid: str, data: dict[str, Any], user: _Owner | None
    ) -> MappingContext:
        if entity is Entity.USERS:
            zones = await self._device_timezones(uid) if lacks_timezone(data) else ()
            return MappingContext(self._as_of, device_timezones=zones, counts=self.counts)
        user = user or _Owner(exists=False)
        return MappingContext(
            self._as_of,
            user_timezone=user.timezone,
            blocklist_ids=user.blocklist_ids,
            user_exists=user.exists,
            counts=self.counts,
        )

    async def _owners(self, entity: Entity, uids: list[str]) -> dict[str, _Owner]:
        """Whether each `users/{uid}` exists; its timezone and blocklists where needed."""
        if entity is Entity.USERS or not uids:
            return {}
        references = [self._client.collection(layout.USERS).document(uid) for uid in uids]
        self.extra_reads += len(references)
        profiles = {snap.id: snap.to_dict() async for snap in self._client.get_all(references)}
        if not BINDINGS[entity].needs_user:
            return {uid: _Owner(exists=profiles.get(uid) is not None) for uid in uids}
        blocklist_ids = await self._blocklist_ids(uids)
        owners: dict[str, _Owner] = {}
        for uid in uids:
            profile = profiles.get(uid)
            if profile is None:
                owners[uid] = _Owner(exists=False)
                continue
            ids = blocklist_ids.get(uid, frozenset()) | self.mapped_blocklists.get(uid, set())
            timezone = await self._user_timezone(uid, profile)
            owners[uid] = _Owner(exists=True, timezone=timezone, blocklist_ids=frozenset(ids))
        return owners

    async def _user_timezone(self, uid: str, profile: dict[str, Any]) -> str:
        zones = await self._device_timezones(uid) if lacks_timezone(profile) else ()
        context = MappingContext(self._as_of, device_timezones=zones)
        return users.user_timezone(profile, context)

    async def _device_timezones(self, uid: str) -> tuple[str, ...]:
        self.extra_reads += 1
        return await self._documents.device_timezones(uid)

    async def _settle(
        self, uid: str, session: FocusSession, context: MappingContext
    ) -> FocusSession:
        """One running session per user: the newest stays running, older ones end (the
        layout's rule), which needs all of the user's sessions: read once per such user."""
        if uid not in self._settled:
            quiet = replace(context, counts=Counter())
            sessions = self._documents.collection(uid, layout.SESSIONS)
            snapshots = [s async for s in sessions.stream()]
            self.extra_reads += len(snapshots)
            mapped = [
                self._documents.map(s, focus_sessions.from_document, quiet) for s in snapshots
            ]
            settled = focus_sessions.settle_running(s for s in mapped if s is not None)
            self._settled = {uid: {s.id: s for s in settled}}  # pages go user by user
        return self._settled[uid].get(session.id, session)


def _quarantined(uid: str, snapshot: Snapshot, unmappable: Unmappable) -> QuarantinedDocument:
    """An orphan keeps no content: its user is gone, and so is the right to hold their data."""
    orphan = unmappable.reason is layout.QuarantineReason.ORPHAN_OF_DELETED_USER
    return QuarantinedDocument(
        path=snapshot.reference.path,
        uid=uid,
        reason=unmappable.reason.value,
        field=unmappable.field,
        document=None if orphan else plain(snapshot.to_dict() or {}),
    )


def _deleted_at(data: dict[str, Any], snapshot: Snapshot) -> dt.datetime | None:
    """A backend tombstone's `deletedAt`; its update time if that instant is unreadable."""
    value = data.get(layout.DELETED_AT_FIELD)
    if value is None:
        return None
    try:
        return parse_instant(value, dt.datetime.max.replace(tzinfo=dt.UTC), future_ok=True)
    except BadValue:
        assert snapshot.update_time is not None
        return utc(snapshot.update_time)


def plain(value: Any) -> Any:
    """A document's fields as JSON: instants in ISO 8601, references as their paths."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, BaseDocumentReference):
        return value.path
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
