"""Wire shapes of focus sessions. The API speaks minutes, the domain seconds; a start made
offline carries the app's own `id`, `started_at` and `timezone`, so a retry finds its session.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from api.schemas import PageOut, RequestModel, ResponseModel, StrictInt, Timezone, UtcDatetime
from domain.focus_sessions.model import (
    MAX_PLANNED_MINUTES,
    MIN_PLANNED_MINUTES,
    FocusMode,
    FocusSession,
    Outcome,
    SessionEnd,
    SessionStart,
)


class FocusSessionStart(RequestModel):
    planned_duration_minutes: StrictInt = Field(
        ge=MIN_PLANNED_MINUTES, le=MAX_PLANNED_MINUTES, examples=[25]
    )
    mode: FocusMode = Field(
        default=FocusMode.NORMAL, description="hard: cannot be abandoned before its planned end"
    )
    blocklist_id: UUID | None = Field(default=None, description="One of your blocklists")
    id: UUID | None = Field(
        default=None,
        description="Chosen by the app when it starts a session offline; sending the same "
        "start again returns the session it created",
    )
    started_at: UtcDatetime | None = Field(
        default=None,
        description="When the session started on the device (offline starts); at most 7 days "
        "ago and 5 minutes ahead. Default: now",
    )
    timezone: Timezone | None = Field(
        default=None,
        description="The device's IANA timezone when the session started: the session counts "
        "for that local day. Default: your profile's timezone when the start arrives (send it "
        "with offline starts: a trip may have changed the profile's since)",
    )

    def to_start(self) -> SessionStart:
        return SessionStart(
            planned_duration_minutes=self.planned_duration_minutes,
            mode=self.mode,
            blocklist_id=self.blocklist_id,
            id=self.id,
            started_at=self.started_at,
            timezone=self.timezone,
        )


class FocusSessionEnd(RequestModel):
    outcome: Outcome = Field(
        description="completed: ran to its planned end; abandoned: stopped before it"
    )
    ended_at: UtcDatetime = Field(description="When it ended on the device")

    def to_end(self) -> SessionEnd:
        return SessionEnd(outcome=self.outcome, ended_at=self.ended_at)


class FocusSessionOut(ResponseModel):
    id: UUID
    blocklist_id: UUID | None
    mode: FocusMode
    planned_duration_minutes: int
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    outcome: Outcome | None
    timezone: str = Field(description="Your timezone when the session started")
    local_date: date = Field(description="The day it counts for in stats, in that timezone")
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, session: FocusSession) -> FocusSessionOut:
        return cls(
            id=session.id,
            blocklist_id=session.blocklist_id,
            mode=session.mode,
            planned_duration_minutes=session.planned_duration_seconds // 60,
            started_at=session.started_at,
            ended_at=session.ended_at,
            outcome=session.outcome,
            timezone=session.timezone,
            local_date=session.local_date,
            version=session.version,
            created_at=session.created_at,
            updated_at=session.updated_at,
        )


class FocusSessionPage(PageOut):
    items: list[FocusSessionOut]
