"""Use cases of a user's focus sessions.

Writes look for a replay before taking the user's next version, so that a retry (common on
mobile networks) commits nothing, and decide after it: taking the version locks the user's
counter until commit, which serialises the user's writes and makes what is read next final.
A refusal rolls the version back with everything else.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from domain.common import Clock, Page, PageRequest, new_id
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.events import DomainEvent, EventType
from domain.focus_sessions.model import (
    DayRange,
    FocusSession,
    ListPosition,
    SessionEnd,
    SessionStart,
    already_ended,
    already_running,
    end_session,
    local_date_of,
    validate_start,
)
from domain.preconditions import ExpectedVersion, check_expected_version
from domain.unit_of_work import UnitOfWork
from domain.users.model import validate_timezone


async def start_focus_session(
    uow: UnitOfWork, user_id: str, start: SessionStart, *, clock: Clock
) -> tuple[FocusSession, bool]:
    """Start a session, or find the one this very start created before; also says if it is new.

    A user has at most one running session: a phone blocks one set of apps at a time.
    """
    now = clock()
    if start.id is not None:
        # Before the checks of instants: a retry may arrive when `started_at` has grown old.
        existing = await uow.focus_sessions.get(user_id, start.id)
        if existing is not None and start.matches(existing):
            return existing, False
    started_at = validate_start(start, now)
    if start.timezone is not None:
        validate_timezone(start.timezone)
    version = await uow.next_version(user_id)
    replayed = await _replay_of_start(uow, user_id, start)
    if replayed is not None:
        return replayed, False
    if await uow.focus_sessions.running(user_id) is not None:
        raise already_running()
    await _check_blocklist(uow, user_id, start.blocklist_id)
    timezone = await _timezone_of_start(uow, user_id, start)
    session = FocusSession(
        id=start.id or new_id(),
        user_id=user_id,
        blocklist_id=start.blocklist_id,
        mode=start.mode,
        planned_duration_seconds=start.planned_duration_minutes * 60,
        started_at=started_at,
        ended_at=None,
        outcome=None,
        timezone=timezone,
        local_date=local_date_of(started_at, timezone),
        version=version,
        created_at=now,
        updated_at=now,
    )
    await uow.focus_sessions.add(session)
    await uow.outbox.add(
        DomainEvent(EventType.FOCUS_SESSION_STARTED, user_id, str(session.id), version, now)
    )
    return session, True


async def _replay_of_start(
    uow: UnitOfWork, user_id: str, start: SessionStart
) -> FocusSession | None:
    if start.id is None:
        return None
    existing = await uow.focus_sessions.get(user_id, start.id)
    if existing is not None:
        if start.matches(existing):
            return existing
        raise Conflict(
            code="focus_session_id_conflict",
            detail="a focus session with this id exists with other values",
        )
    return None


async def _timezone_of_start(uow: UnitOfWork, user_id: str, start: SessionStart) -> str:
    """Where the session's local day is taken: the device's zone at the start when it says,
    else the profile's now (a start queued offline before a trip would move days with it)."""
    if start.timezone is not None:
        return start.timezone
    user = await uow.users.get(user_id)
    return user.timezone if user else "UTC"


async def _check_blocklist(uow: UnitOfWork, user_id: str, blocklist_id: UUID | None) -> None:
    if blocklist_id is None:
        return
    if await uow.blocklists.get(user_id, blocklist_id) is None:
        raise ValidationFailed.on("blocklist_id", "unknown_blocklist", "not one of your blocklists")


async def end_focus_session(
    uow: UnitOfWork,
    user_id: str,
    session_id: UUID,
    end: SessionEnd,
    *,
    expected_version: ExpectedVersion,
    clock: Clock,
) -> FocusSession:
    """End a running session; the same end sent again returns the ended session unchanged."""
    now = clock()
    current = await get_focus_session(uow, user_id, session_id)
    if not current.is_running:
        return _replay_of_end(current, end)
    version = await uow.next_version(user_id)
    current = await get_focus_session(uow, user_id, session_id)
    if not current.is_running:
        return _replay_of_end(current, end)
    check_expected_version(current.version, expected_version, "focus session")
    ended = replace(end_session(current, end, now), version=version)
    await uow.focus_sessions.save(ended)
    assert ended.outcome is not None, "an ended session has an outcome"
    await uow.outbox.add(DomainEvent(ended.event_type, user_id, str(session_id), version, now))
    return ended


def _replay_of_end(session: FocusSession, end: SessionEnd) -> FocusSession:
    if end.matches(session):
        return session
    raise already_ended()


async def get_focus_session(uow: UnitOfWork, user_id: str, session_id: UUID) -> FocusSession:
    session = await uow.focus_sessions.get(user_id, session_id)
    if session is None:
        raise NotFound(detail="no such focus session")
    return session


async def list_focus_sessions(
    uow: UnitOfWork, user_id: str, days: DayRange, page: PageRequest
) -> Page[FocusSession]:
    after = _position(page.after)
    rows = await uow.focus_sessions.list(user_id, days, after=after, limit=page.limit + 1)
    items = rows[: page.limit]
    more = len(rows) > page.limit
    last = items[-1] if items else None
    next_after = (last.started_at.isoformat(), str(last.id)) if more and last else None
    return Page(items=items, next_after=next_after)


def _position(after: tuple[str, ...] | None) -> ListPosition | None:
    if after is None:
        return None
    try:
        started_at, session_id = after
        position = ListPosition(datetime.fromisoformat(started_at), UUID(session_id))
    except ValueError as exc:
        raise ValidationFailed.on(
            "cursor", "invalid_cursor", "not a cursor this API issued"
        ) from exc
    if position.started_at.tzinfo is None:
        raise ValidationFailed.on("cursor", "invalid_cursor", "not a cursor this API issued")
    return position
