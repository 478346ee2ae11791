"""Sessions and schedules for the AI tests, started at a local wall time in a timezone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.focus_sessions.model import FocusMode, FocusSession, Outcome, local_date_of
from domain.schedules.model import Schedule, Strictness, Weekday

AT = datetime(2026, 1, 1, tzinfo=UTC)


def session_at_utc(
    started_at: datetime,
    minutes: int,
    zone: str,
    outcome: Outcome | None = Outcome.COMPLETED,
    *,
    n: int = 1,
    uid: str = "u",
    blocklist_id: UUID | None = None,
    mode: FocusMode = FocusMode.NORMAL,
) -> FocusSession:
    """A session that ran `minutes` from `started_at` (None outcome: still running)."""
    length = timedelta(minutes=minutes)
    return FocusSession(
        id=UUID(int=n),
        user_id=uid,
        blocklist_id=blocklist_id,
        mode=mode,
        planned_duration_seconds=minutes * 60,
        started_at=started_at,
        ended_at=None if outcome is None else started_at + length,
        outcome=outcome,
        timezone=zone,
        local_date=local_date_of(started_at, zone),
        version=1,
        created_at=started_at,
        updated_at=started_at,
    )


def session_at_local(
    local_start: datetime,
    minutes: int,
    zone: str,
    outcome: Outcome | None = Outcome.COMPLETED,
    *,
    n: int = 1,
) -> FocusSession:
    """A session started at the wall time `local_start` (naive) in `zone`."""
    started = local_start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return session_at_utc(started, minutes, zone, outcome, n=n)


def schedule(
    days: Iterable[Weekday],
    start: time,
    end: time,
    *,
    n: int = 1,
    hard: bool = False,
    enabled: bool = True,
    name: str = "Evenings",
    uid: str = "u",
    zone: str = "UTC",
    blocklist_id: UUID | None = None,
) -> Schedule:
    chosen = set(days)
    return Schedule(
        id=UUID(int=n),
        user_id=uid,
        name=name,
        days=tuple(d for d in Weekday if d in chosen),
        start_local=start,
        end_local=end,
        timezone=zone,
        blocklist_id=blocklist_id or UUID(int=1000 + n),
        strictness=Strictness.HARD if hard else Strictness.NORMAL,
        enabled=enabled,
        paused_until=None,
        version=1,
        created_at=AT,
        updated_at=AT,
    )
