"""Focus sessions: a timed stretch of blocking, started and ended by the app (often offline)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.common import MAX_CLIENT_CLOCK_SKEW_SECONDS
from domain.errors import Conflict, ValidationFailed
from domain.events import EventType

MIN_PLANNED_MINUTES = 1
# Half a day: a longer hard-mode lock is far more likely a slip of the finger than a plan.
MAX_PLANNED_MINUTES = 12 * 60
MAX_SESSION_DURATION = timedelta(hours=24)
# An offline start reaches us when the phone is back online; a week covers a trip, and keeps
# clients from rewriting old days (and streaks) at will.
MAX_START_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(seconds=MAX_CLIENT_CLOCK_SKEW_SECONDS)


class FocusMode(StrEnum):
    NORMAL = "normal"
    HARD = "hard"
    """Cannot be abandoned before its planned end."""


class Outcome(StrEnum):
    COMPLETED = "completed"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class FocusSession:
    id: UUID
    user_id: str
    blocklist_id: UUID | None
    mode: FocusMode
    planned_duration_seconds: int
    started_at: datetime
    ended_at: datetime | None
    outcome: Outcome | None
    timezone: str
    """The user's timezone when the session was started."""
    local_date: date
    """The user's calendar day of `started_at` in `timezone`: fixed, whatever moves later."""
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def planned_end(self) -> datetime:
        return self.started_at + timedelta(seconds=self.planned_duration_seconds)

    @property
    def is_running(self) -> bool:
        return self.ended_at is None

    @property
    def event_type(self) -> EventType:
        """The event its latest change records: started while it runs, else how it ended."""
        match self.outcome:
            case None:
                return EventType.FOCUS_SESSION_STARTED
            case Outcome.COMPLETED:
                return EventType.FOCUS_SESSION_COMPLETED
            case Outcome.ABANDONED:
                return EventType.FOCUS_SESSION_ABANDONED


@dataclass(frozen=True, slots=True)
class SessionStart:
    """What a client sends to start a session; `id` and `started_at` when it started offline."""

    planned_duration_minutes: int
    mode: FocusMode = FocusMode.NORMAL
    blocklist_id: UUID | None = None
    id: UUID | None = None
    started_at: datetime | None = None
    timezone: str | None = None
    """The device's zone at the start; None: the profile's when the start arrives."""

    def matches(self, session: FocusSession) -> bool:
        """A replay of the start that created `session` (a retry may leave out `started_at`
        and `timezone`)."""
        return (
            session.mode is self.mode
            and session.planned_duration_seconds == self.planned_duration_minutes * 60
            and session.blocklist_id == self.blocklist_id
            and (self.started_at is None or self.started_at == session.started_at)
            and (self.timezone is None or self.timezone == session.timezone)
        )


@dataclass(frozen=True, slots=True)
class SessionEnd:
    outcome: Outcome
    ended_at: datetime

    def matches(self, session: FocusSession) -> bool:
        return session.outcome is self.outcome and session.ended_at == self.ended_at


def local_date_of(instant: datetime, timezone: str) -> date:
    """The calendar day `instant` falls on in `timezone` (DST-safe: zoneinfo knows the offset)."""
    return instant.astimezone(ZoneInfo(timezone)).date()


def validate_start(start: SessionStart, now: datetime) -> datetime:
    """Checks the start; returns when it began (the client's instant, else now)."""
    if not MIN_PLANNED_MINUTES <= start.planned_duration_minutes <= MAX_PLANNED_MINUTES:
        raise ValidationFailed.on(
            "planned_duration_minutes",
            "out_of_range",
            f"between {MIN_PLANNED_MINUTES} and {MAX_PLANNED_MINUTES} minutes",
        )
    if start.started_at is None:
        return now
    _not_in_the_future("started_at", start.started_at, now)
    if start.started_at < now - MAX_START_AGE:
        raise ValidationFailed.on(
            "started_at",
            "too_old",
            f"a session may start at most {MAX_START_AGE.days} days before it is sent",
        )
    return start.started_at


def _not_in_the_future(field: str, instant: datetime, now: datetime) -> None:
    if instant > now + CLOCK_SKEW:
        raise ValidationFailed.on(
            field, "in_the_future", "later than now; check the device's clock"
        )


def end_session(session: FocusSession, end: SessionEnd, now: datetime) -> FocusSession:
    """The session ended as `end` says, before a new version is given; or why it cannot end."""
    if not session.is_running:
        raise already_ended()
    _not_in_the_future("ended_at", end.ended_at, now)
    if end.ended_at < session.started_at:
        raise ValidationFailed.on("ended_at", "before_start", "a session ends after it starts")
    if end.ended_at - session.started_at > MAX_SESSION_DURATION:
        raise ValidationFailed.on(
            "ended_at", "too_long", "a session lasts at most 24 hours; end it earlier"
        )
    if end.ended_at < session.planned_end:
        if session.mode is FocusMode.HARD and end.outcome is Outcome.ABANDONED:
            raise Conflict(
                code="hard_mode_locked",
                detail="a hard-mode session cannot be abandoned before its planned end",
            )
        # The two clocks (server start, client end) may disagree by the allowed skew.
        if end.outcome is Outcome.COMPLETED and end.ended_at < session.planned_end - CLOCK_SKEW:
            raise ValidationFailed.on(
                "outcome",
                "not_completed",
                "a session completes at its planned end; one ended earlier is abandoned",
            )
    return replace(session, ended_at=end.ended_at, outcome=end.outcome, updated_at=now)


def already_ended() -> Conflict:
    return Conflict(
        code="focus_session_already_ended", detail="this focus session has already ended"
    )


def already_running() -> Conflict:
    return Conflict(
        code="focus_session_already_running",
        detail="another focus session is running; end it first",
    )


def completed_duration(session: FocusSession) -> timedelta:
    """What a session adds to the focus time of the day it started: its length if completed."""
    if session.outcome is not Outcome.COMPLETED or session.ended_at is None:
        return timedelta()
    return session.ended_at - session.started_at


@dataclass(frozen=True, slots=True)
class ListPosition:
    """Where a page of the list (newest first) stopped: keyset on (started_at, id)."""

    started_at: datetime
    id: UUID


_CALENDAR_EDGE = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class DayRange:
    """Local calendar days, both ends included; None leaves that end open.

    An end within two days of the calendar's first or last day (0001-01-01, 9999-12-31) is
    open too: no session lies there, and the instants around those days, in every timezone,
    do not all exist.
    """

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise ValidationFailed.on("to", "before_from", "'to' must not be before 'from'")
        if self.first is not None and self.first < date.min + _CALENDAR_EDGE:
            object.__setattr__(self, "first", None)
        if self.last is not None and self.last > date.max - _CALENDAR_EDGE:
            object.__setattr__(self, "last", None)
