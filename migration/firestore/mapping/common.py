"""What every entity's mapping shares: instants, versions, timezones, references, quarantine."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from google.cloud.firestore_v1.base_document import BaseDocumentReference

from domain.errors import ValidationFailed
from domain.users.model import validate_timezone
from migration.firestore.layout import (
    BACKEND_WRITER,
    BLOCKLISTS,
    USERS,
    VERSION_FIELD,
    WRITER_FIELD,
    QuarantineReason,
    record_id,
)

EARLIEST_INSTANT = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(minutes=5)
UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Unmappable(Exception):
    """The document must be quarantined: `reason` as the layout prescribes, `field` that failed."""

    def __init__(self, reason: QuarantineReason, field: str | None = None) -> None:
        super().__init__(f"{reason}: {field}" if field else str(reason))
        self.reason = reason
        self.field = field


@dataclass(frozen=True, slots=True)
class MappingContext:
    """What a document's mapping needs beyond the document itself."""

    as_of: dt.datetime
    """The migration's (or the read's) now: later instants are unmappable, staleness from it."""
    user_timezone: str | None = None
    """The user's timezone after its own fallback (schedules and sessions default to it)."""
    device_timezones: tuple[str, ...] = ()
    """The timezones of the user's devices, most recently seen first (the user's fallback)."""
    blocklist_ids: frozenset[UUID] | None = None
    """The user's mappable blocklists; None leaves dangling references unchecked."""
    user_exists: bool = True
    """False for a subcollection document without `users/{uid}`: an orphan."""
    counts: Counter[str] = field(default_factory=Counter, compare=False)
    """Defaults applied, entries dropped and unknown fields, by `collection.field:what`."""

    def note(self, key: str) -> None:
        self.counts[key] += 1


class BadValue(Exception):
    def __init__(self, reason: QuarantineReason) -> None:
        super().__init__(str(reason))
        self.reason = reason


def utc(value: dt.datetime) -> dt.datetime:
    """A plain `datetime` in UTC (Firestore hands out its own subclass, with nanoseconds; a
    snapshot's `create_time` / `update_time` may be a protobuf Timestamp despite its docs)."""
    if not isinstance(value, dt.datetime) and hasattr(value, "ToDatetime"):
        value = value.ToDatetime(tzinfo=dt.UTC)
    moment = value.astimezone(dt.UTC)
    return dt.datetime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        tzinfo=dt.UTC,
    )


def parse_instant(value: Any, as_of: dt.datetime, *, future_ok: bool = False) -> dt.datetime:
    """A Timestamp, epoch milliseconds or an ISO 8601 string with an offset; else `BadValue`."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise BadValue(QuarantineReason.INVALID_VALUE)
        moment = utc(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            moment = UNIX_EPOCH + dt.timedelta(milliseconds=value)
        except OverflowError as exc:
            raise BadValue(QuarantineReason.INVALID_VALUE) from exc
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise BadValue(QuarantineReason.INVALID_VALUE) from exc
        if parsed.tzinfo is None:
            raise BadValue(QuarantineReason.INVALID_VALUE)
        moment = utc(parsed)
    else:
        raise BadValue(QuarantineReason.WRONG_TYPE)
    if moment < EARLIEST_INSTANT or (not future_ok and moment > as_of + FUTURE_SLACK):
        raise BadValue(QuarantineReason.INVALID_VALUE)
    return moment


def optional_instant(
    data: Mapping[str, Any],
    name: str,
    context: MappingContext,
    collection: str,
    *,
    future_ok: bool = False,
) -> dt.datetime | None:
    """The instant, or None when missing, null or unmappable (counted)."""
    value = data.get(name)
    if value is None:
        return None
    try:
        return parse_instant(value, context.as_of, future_ok=future_ok)
    except BadValue:
        context.note(f"{collection}.{name}:unmappable")
        return None


def required_instant(data: Mapping[str, Any], name: str, as_of: dt.datetime) -> dt.datetime:
    value = data.get(name)
    if value is None:
        raise Unmappable(QuarantineReason.MISSING_REQUIRED, name)
    try:
        return parse_instant(value, as_of)
    except BadValue as bad:
        raise Unmappable(bad.reason, name) from bad


def stamps(
    data: Mapping[str, Any],
    context: MappingContext,
    collection: str,
    create_time: dt.datetime,
    update_time: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """`createdAt` / `updatedAt`, else the document's own create / update time."""
    created = optional_instant(data, "createdAt", context, collection)
    updated = optional_instant(data, "updatedAt", context, collection)
    return created or utc(create_time), updated or utc(update_time)


def version_of(data: Mapping[str, Any]) -> int:
    """`_v` when the backend wrote the document; 0 for a legacy write (the backfill numbers it)."""
    value = data.get(VERSION_FIELD)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def backend_fields(version: int) -> dict[str, Any]:
    return {VERSION_FIELD: version, WRITER_FIELD: BACKEND_WRITER}


def valid_timezone(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return validate_timezone(value)
    except ValidationFailed:
        return None


def note_unknown(
    data: Mapping[str, Any], known: Iterable[str], context: MappingContext, collection: str
) -> None:
    """Unknown fields are left out and counted by name; `_`-prefixed ones are never mapped."""
    names = set(known)
    for name in data:
        if name not in names and not name.startswith("_"):
            context.note(f"{collection}.{name}:unknown")


def blocklist_reference(uid: str, value: Any) -> UUID:
    """The blocklist a schedule or session links to: a DocumentReference or a plain id string."""
    if isinstance(value, BaseDocumentReference):
        parts = value.path.split("/")
        if len(parts) != 4 or parts[0] != USERS or parts[2] != BLOCKLISTS:
            raise BadValue(QuarantineReason.WRONG_TYPE)
        if parts[1] != uid:
            raise BadValue(QuarantineReason.FOREIGN_BLOCKLIST)
        return record_id(uid, BLOCKLISTS, parts[3])
    if isinstance(value, str) and value and "/" not in value:
        return record_id(uid, BLOCKLISTS, value)
    raise BadValue(QuarantineReason.WRONG_TYPE)


def blocklist_path(uid: str, blocklist_id: UUID) -> str:
    return f"{USERS}/{uid}/{BLOCKLISTS}/{blocklist_id}"


def trimmed_name(value: Any, default: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        return default
    return value.strip()[:limit].strip()


def check_not_orphan(context: MappingContext) -> None:
    """A subcollection document whose `users/{uid}` is gone is quarantined without its content."""
    if not context.user_exists:
        raise Unmappable(QuarantineReason.ORPHAN_OF_DELETED_USER)
