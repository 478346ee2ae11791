"""`users/{uid}/sessions/{autoId}` ↔ FocusSession."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from uuid import UUID

from google.cloud.firestore_v1.base_client import BaseClient

from domain.focus_sessions.model import (
    MAX_SESSION_DURATION,
    FocusMode,
    FocusSession,
    Outcome,
    local_date_of,
)
from migration.firestore.layout import (
    ID_FIELD,
    SESSIONS,
    VERSION_FIELD,
    QuarantineReason,
    record_id,
)
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
    required_instant,
    stamps,
    valid_timezone,
    version_of,
)

KNOWN = (
    "startedAt",
    "plannedMinutes",
    "status",
    "endedAt",
    "hardMode",
    "blocklist",
    "timezone",
    "createdAt",
    "updatedAt",
)
RUNNING = "running"
COMPLETION_SLACK = dt.timedelta(minutes=5)
"""Without a status, a session ended this close to its planned end counts as completed."""


def from_document(
    uid: str,
    doc_id: str,
    data: dict[str, Any],
    *,
    create_time: dt.datetime,
    update_time: dt.datetime,
    context: MappingContext,
) -> FocusSession:
    check_not_orphan(context)
    started_at = required_instant(data, "startedAt", context.as_of)
    planned = started_at + dt.timedelta(seconds=_planned_seconds(data.get("plannedMinutes")))
    status = _status(data.get("status"))
    note_unknown(data, KNOWN, context, SESSIONS)
    created_at, updated_at = stamps(data, context, SESSIONS, create_time, update_time)
    ended_at = optional_instant(data, "endedAt", context, SESSIONS)
    if ended_at is not None and ended_at < started_at:
        context.note(f"{SESSIONS}.endedAt:before_start")
        ended_at = None
    if ended_at is not None and ended_at - started_at > MAX_SESSION_DURATION:
        context.note(f"{SESSIONS}.endedAt:cut")
        ended_at = started_at + MAX_SESSION_DURATION
    if status is None:
        status = _status_from_end(ended_at, planned)
    outcome = None if status == RUNNING else Outcome(status)
    if outcome is None:
        ended_at = None
    elif ended_at is None:
        fallback = planned if outcome is Outcome.COMPLETED else updated_at
        ended_at = min(max(fallback, started_at), started_at + MAX_SESSION_DURATION)
    legacy = VERSION_FIELD not in data
    if legacy and outcome is None and started_at < context.as_of - MAX_SESSION_DURATION:
        # Stale: nobody saw it complete, so it adds no focus minutes or streak days.
        context.note(f"{SESSIONS}.status:stale_running")
        ended_at, outcome = planned, Outcome.ABANDONED
    timezone = valid_timezone(data.get("timezone")) or context.user_timezone or "UTC"
    hard = data.get("hardMode")
    return FocusSession(
        id=record_id(uid, SESSIONS, doc_id),
        user_id=uid,
        blocklist_id=_blocklist(uid, data.get("blocklist"), context),
        mode=FocusMode.HARD if hard is True else FocusMode.NORMAL,
        planned_duration_seconds=int((planned - started_at).total_seconds()),
        started_at=started_at,
        ended_at=ended_at,
        outcome=outcome,
        timezone=timezone,
        local_date=local_date_of(started_at, timezone),
        version=version_of(data),
        created_at=created_at,
        updated_at=updated_at,
    )


def to_document(session: FocusSession, client: BaseClient) -> dict[str, Any]:
    """`client` makes the blocklist's DocumentReference. `plannedMinutes` holds whole minutes."""
    blocklist = (
        client.document(blocklist_path(session.user_id, session.blocklist_id))
        if session.blocklist_id is not None
        else None
    )
    return {
        "startedAt": session.started_at,
        "plannedMinutes": session.planned_duration_seconds // 60,
        "status": session.outcome.value if session.outcome else RUNNING,
        "endedAt": session.ended_at,
        "hardMode": session.mode is FocusMode.HARD,
        "blocklist": blocklist,
        "timezone": session.timezone,
        "createdAt": session.created_at,
        "updatedAt": session.updated_at,
        ID_FIELD: str(session.id),
        **backend_fields(session.version),
    }


def settle_running(sessions: Iterable[FocusSession]) -> list[FocusSession]:
    """One running session per user: the newest stays; an older one is abandoned at its planned
    end or the next session's start, whichever is earlier."""
    ordered = sorted(sessions, key=lambda s: (s.started_at, s.id))
    running = [s for s in ordered if s.is_running]
    settled: dict[UUID, FocusSession] = {}
    for session in running[:-1]:
        later = [s.started_at for s in ordered if s.started_at > session.started_at]
        end = min([session.planned_end, *later[:1]])
        settled[session.id] = replace(session, ended_at=end, outcome=Outcome.ABANDONED)
    return [settled.get(s.id, s) for s in ordered]


def _planned_seconds(value: Any) -> int:
    if value is None:
        raise Unmappable(QuarantineReason.MISSING_REQUIRED, "plannedMinutes")
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unmappable(QuarantineReason.WRONG_TYPE, "plannedMinutes")
    if value <= 0:
        raise Unmappable(QuarantineReason.INVALID_VALUE, "plannedMinutes")
    return value * 60


def _status(value: Any) -> str | None:
    if value is None:
        return None
    if value not in (RUNNING, Outcome.COMPLETED.value, Outcome.ABANDONED.value):
        raise Unmappable(QuarantineReason.INVALID_VALUE, "status")
    return str(value)


def _status_from_end(ended_at: dt.datetime | None, planned_end: dt.datetime) -> str:
    if ended_at is None:
        return RUNNING
    if ended_at >= planned_end - COMPLETION_SLACK:
        return Outcome.COMPLETED.value
    return Outcome.ABANDONED.value


def _blocklist(uid: str, value: Any, context: MappingContext) -> UUID | None:
    """Optional: an unusable link becomes null (history stays; the blocklist is gone)."""
    if value is None:
        return None
    try:
        blocklist_id = blocklist_reference(uid, value)
    except BadValue:
        context.note(f"{SESSIONS}.blocklist:unmappable")
        return None
    if context.blocklist_ids is not None and blocklist_id not in context.blocklist_ids:
        context.note(f"{SESSIONS}.blocklist:dangling")
        return None
    return blocklist_id
