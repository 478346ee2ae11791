"""Wire shapes of the staff API: requests as compliance staff follow them (the clock, the
steps, who did what), and what they send to move one on. The subject appears only as the
prefix of its keyed hash; the uid goes in, never out (and never in a URL)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints

from api.schemas import RequestModel, ResponseModel, StrictInt, UtcDatetime
from domain.privacy.model import Channel, PrivacyRequest, RequestKind, RequestState
from domain.privacy.ports import AuditEntry
from domain.privacy.steps import Step, StepState

HASH_PREFIX = 12
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class StaffChannel(StrEnum):
    """How a request reached staff (the app's own channel is the subject's)."""

    EMAIL = Channel.EMAIL.value
    SUPPORT = Channel.SUPPORT.value
    POST = Channel.POST.value


class OpenRequestIn(RequestModel):
    kind: RequestKind
    uid: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="The subject's user id (in the body: never in a URL)"
    )
    channel: StaffChannel
    received_on: date | None = Field(default=None, description="The day it arrived (UTC)")
    verification_method: Name | None = Field(
        default=None, description="Identity verified on receipt by this method (email_reply…)"
    )

    @property
    def received_at(self) -> datetime | None:
        return datetime.combine(self.received_on, time(), UTC) if self.received_on else None


class VerifyIn(RequestModel):
    method: Name


class ReasonIn(RequestModel):
    reason: Reason


class ExtendIn(RequestModel):
    months: StrictInt = Field(ge=1, le=2)
    reason: Reason


class ClockOut(ResponseModel):
    due_at: UtcDatetime
    days_left: int | None
    paused: bool = Field(description="Identity unverified: the clock stands still")
    at_risk: bool
    overdue: bool

    @classmethod
    def of(cls, request: PrivacyRequest, now: datetime) -> ClockOut:
        due, is_open = request.due_at(now), request.state.open
        paused = is_open and request.state is RequestState.RECEIVED
        days_left = math.floor((due - now).total_seconds() / 86400) if is_open else None
        return cls(
            due_at=due,
            days_left=days_left,
            paused=paused,
            at_risk=request.at_risk(now),
            overdue=request.overdue(now),
        )


class VerificationOut(ResponseModel):
    method: str
    by: str
    at: UtcDatetime


class ExtensionOut(ResponseModel):
    months: int
    reason: str
    by: str
    at: UtcDatetime


class StaffRequestOut(ResponseModel):
    id: UUID
    kind: RequestKind
    state: RequestState
    channel: Channel
    subject: str = Field(description="The prefix of the subject's keyed hash")
    created_by: str
    received_at: UtcDatetime
    verification: VerificationOut | None
    approved_by: str | None
    extensions: list[ExtensionOut]
    outcome: str | None
    finished_at: UtcDatetime | None
    version: int
    clock: ClockOut

    @classmethod
    def of(cls, r: PrivacyRequest, now: datetime) -> StaffRequestOut:
        v = r.verification
        return cls(
            id=r.id, kind=r.kind, state=r.state, channel=r.channel,
            subject=r.subject_hash[:HASH_PREFIX], created_by=r.created_by,
            received_at=r.received_at,
            verification=VerificationOut(method=v.method, by=v.by, at=v.at) if v else None,
            approved_by=r.approved_by,
            extensions=[ExtensionOut(months=e.months, reason=e.reason, by=e.by, at=e.at)
                        for e in r.extensions],
            outcome=r.outcome, finished_at=r.finished_at, version=r.version,
            clock=ClockOut.of(r, now),
        )  # fmt: skip


class StepOut(ResponseModel):
    position: int
    name: str
    state: StepState
    attempts: int
    error: str | None
    count: int | None
    detail: dict[str, int] | None
    done_at: UtcDatetime | None

    @classmethod
    def of(cls, s: Step) -> StepOut:
        return cls(
            position=s.position, name=s.name, state=s.state, attempts=s.attempts,
            error=s.error, count=s.count, detail=s.detail, done_at=s.done_at,
        )  # fmt: skip


class RequestDetailOut(ResponseModel):
    request: StaffRequestOut
    steps: list[StepOut]
    joined: bool | None = Field(default=None, description="Opening joined an open request")

    @classmethod
    def of(
        cls,
        request: PrivacyRequest,
        steps: Sequence[Step],
        now: datetime,
        *,
        joined: bool | None = None,
    ) -> RequestDetailOut:
        return cls(
            request=StaffRequestOut.of(request, now),
            steps=[StepOut.of(s) for s in steps],
            joined=joined,
        )


class RequestListOut(ResponseModel):
    requests: list[StaffRequestOut]
    limited: bool = Field(description="Only the first ones received: filter")


class AuditEntryOut(ResponseModel):
    at: UtcDatetime
    actor: str
    action: str
    categories: list[str]
    exemption: str | None
    detail: Mapping[str, int | str]


class AuditTrailOut(ResponseModel):
    request_id: UUID
    entries: list[AuditEntryOut]

    @classmethod
    def of(cls, request_id: UUID, entries: Sequence[AuditEntry]) -> AuditTrailOut:
        shown = [
            AuditEntryOut(at=e.at, actor=e.actor, action=e.action, categories=list(e.categories),
                          exemption=e.exemption, detail=dict(e.detail))
            for e in entries
        ]  # fmt: skip
        return cls(request_id=request_id, entries=shown)
