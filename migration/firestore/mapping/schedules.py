"""`users/{uid}/schedules/{autoId}` ↔ Schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from google.cloud.firestore_v1.base_client import BaseClient

from domain.blocklists.model import MAX_NAME_LENGTH
from domain.errors import ValidationFailed
from domain.schedules.model import (
    Schedule,
    Strictness,
    Weekday,
    format_local_time,
    parse_local_time,
)
from migration.firestore.layout import SCHEDULES, QuarantineReason, record_id
from migration.firestore.mapping.common import (
    BadValue,
    MappingContext,
    Unmappable,
    backend_fields,
    blocklist_path,
    blocklist_reference,
    check_not_orphan,
    note_unknown,
    optional_instant,
    stamps,
    trimmed_name,
    valid_timezone,
    version_of,
)

KNOWN = (
    "name",
    "days",
    "startTime",
    "endTime",
    "timezone",
    "blocklist",
    "hardMode",
    "enabled",
    "pausedUntil",
    "createdAt",
    "updatedAt",
)
DEFAULT_NAME = "Schedule"
_WEEK = tuple(Weekday)


def from_document(
    uid: str,
    doc_id: str,
    data: dict[str, Any],
    *,
    create_time: dt.datetime,
    update_time: dt.datetime,
    context: MappingContext,
) -> Schedule:
    check_not_orphan(context)
    days = days_of(data.get("days"))
    start_local = _local_time(data, "startTime")
    end_local = _local_time(data, "endTime")
    if start_local == end_local:
        raise Unmappable(QuarantineReason.INVALID_VALUE, "endTime")
    blocklist_id = linked_blocklist(uid, data.get("blocklist"), context)
    note_unknown(data, KNOWN, context, SCHEDULES)
    created_at, updated_at = stamps(data, context, SCHEDULES, create_time, update_time)
    hard, enabled = data.get("hardMode"), data.get("enabled")
    return Schedule(
        id=record_id(uid, SCHEDULES, doc_id),
        user_id=uid,
        name=trimmed_name(data.get("name"), DEFAULT_NAME, MAX_NAME_LENGTH),
        days=days,
        start_local=start_local,
        end_local=end_local,
        timezone=valid_timezone(data.get("timezone")) or context.user_timezone or "UTC",
        blocklist_id=blocklist_id,
        strictness=Strictness.HARD if hard is True else Strictness.NORMAL,
        enabled=enabled if isinstance(enabled, bool) else True,
        paused_until=optional_instant(data, "pausedUntil", context, SCHEDULES, future_ok=True),
        version=version_of(data),
        created_at=created_at,
        updated_at=updated_at,
    )


def to_document(schedule: Schedule, client: BaseClient) -> dict[str, Any]:
    """`client` makes the blocklist's DocumentReference."""
    return {
        "name": schedule.name,
        "days": [day.value for day in schedule.days],
        "startTime": format_local_time(schedule.start_local),
        "endTime": format_local_time(schedule.end_local),
        "timezone": schedule.timezone,
        "blocklist": client.document(blocklist_path(schedule.user_id, schedule.blocklist_id)),
        "hardMode": schedule.strictness is Strictness.HARD,
        "enabled": schedule.enabled,
        "pausedUntil": schedule.paused_until,
        "createdAt": schedule.created_at,
        "updatedAt": schedule.updated_at,
        **backend_fields(schedule.version),
    }


def days_of(value: Any) -> tuple[Weekday, ...]:
    """Week order, duplicates dropped; `"Monday"`, `"mon"` or ISO 8601's 1 (Monday)…7."""
    if value is None:
        raise Unmappable(QuarantineReason.MISSING_REQUIRED, "days")
    if not isinstance(value, list):
        raise Unmappable(QuarantineReason.WRONG_TYPE, "days")
    chosen: set[Weekday] = set()
    for entry in value:
        if isinstance(entry, int) and not isinstance(entry, bool) and 1 <= entry <= 7:
            chosen.add(_WEEK[entry - 1])
        elif isinstance(entry, str) and entry[:3].lower() in {d.value for d in _WEEK}:
            chosen.add(Weekday(entry[:3].lower()))
        else:
            raise Unmappable(QuarantineReason.INVALID_VALUE, "days")
    if not chosen:
        raise Unmappable(QuarantineReason.INVALID_VALUE, "days")
    return tuple(day for day in _WEEK if day in chosen)


def linked_blocklist(uid: str, value: Any, context: MappingContext) -> UUID:
    if value is None:
        raise Unmappable(QuarantineReason.MISSING_BLOCKLIST, "blocklist")
    try:
        blocklist_id = blocklist_reference(uid, value)
    except BadValue as bad:
        raise Unmappable(bad.reason, "blocklist") from bad
    if context.blocklist_ids is not None and blocklist_id not in context.blocklist_ids:
        raise Unmappable(QuarantineReason.DANGLING_BLOCKLIST, "blocklist")
    return blocklist_id


def _local_time(data: dict[str, Any], name: str) -> dt.time:
    value = data.get(name)
    if value is None:
        raise Unmappable(QuarantineReason.MISSING_REQUIRED, name)
    if not isinstance(value, str):
        raise Unmappable(QuarantineReason.WRONG_TYPE, name)
    try:
        return parse_local_time(value, name)
    except ValidationFailed as exc:
        raise Unmappable(QuarantineReason.INVALID_VALUE, name) from exc
