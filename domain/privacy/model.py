"""A data-subject request (GDPR Art. 15/20 export, Art. 17 erasure): its states, who may move it
on, and its statutory clock.

States: received → identity verified → (an erasure staff opened: approved by a second staff
member) → running → completed; refused or cancelled from any state before running. A request
the app opens is verified at once (the subject signed in recently) and needs no approval.

The clock (Art. 12(3)): due one calendar month after receipt (the last day of the month when the
day does not exist: 31 January → 28 or 29 February), paused while identity verification is
pending, extended by at most two months in all, each extension with a recorded reason.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from domain.errors import Conflict, Forbidden, ValidationFailed

AT_RISK_AFTER = timedelta(days=20)
"""A request this old on the clock and not done is an alert condition."""
MAX_EXTENSION_MONTHS = 2
SUBJECT = "subject"
"""The actor of what the subject does through the app (staff act under their staff id)."""
SYSTEM = "system"
"""The actor of what the service does by itself (an erasure reapplied after a restore)."""


class RequestKind(StrEnum):
    EXPORT = "export"
    """Access and portability (Art. 15, 20)."""
    ERASURE = "erasure"
    """Art. 17."""


class Channel(StrEnum):
    APP = "app"
    EMAIL = "email"
    SUPPORT = "support"
    POST = "post"


class RequestState(StrEnum):
    RECEIVED = "received"
    """Identity verification pending: the clock is paused."""
    VERIFIED = "verified"
    APPROVED = "approved"
    RUNNING = "running"
    COMPLETED = "completed"
    REFUSED = "refused"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        return self not in (RequestState.COMPLETED, RequestState.REFUSED, RequestState.CANCELLED)


@dataclass(frozen=True, slots=True)
class Verification:
    """How the subject's identity was checked: by the app's sign-in, or by staff."""

    method: str
    """`recent_sign_in`, `email_reply`, `id_document`, …: free of personal data."""
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Extension:
    months: int
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PrivacyRequest:
    id: UUID
    kind: RequestKind
    subject_uid: str | None
    """The subject, until an erasure completes (then only `subject_hash` remains)."""
    subject_hash: str
    """A keyed hash of the uid: what audit rows and metrics name the subject by."""
    channel: Channel
    state: RequestState
    received_at: datetime
    created_by: str
    """A staff id, or `subject`."""
    verification: Verification | None = None
    approved_by: str | None = None
    paused: timedelta = timedelta(0)
    """How long identity verification kept the clock stopped (settled when verified)."""
    extensions: tuple[Extension, ...] = ()
    outcome: str | None = None
    """Why it was refused or cancelled (with the right to complain, told to the subject)."""
    finished_at: datetime | None = None
    version: int = 1

    @property
    def from_app(self) -> bool:
        return self.created_by == SUBJECT

    @property
    def needs_approval(self) -> bool:
        """An erasure staff opened on someone's behalf: a second staff member approves it."""
        return self.kind is RequestKind.ERASURE and self.created_by not in (SUBJECT, SYSTEM)

    def due_at(self, now: datetime) -> datetime:
        """When the answer is due; while verification is pending, the pause so far counts."""
        months = 1 + sum(e.months for e in self.extensions)
        paused = self.paused
        if self.state is RequestState.RECEIVED:
            paused += max(now - self.received_at, timedelta(0))
        return add_months(self.received_at, months) + paused

    def elapsed(self, now: datetime) -> timedelta:
        """Time on the clock: since receipt, without the pause."""
        end = self.finished_at or now
        if self.state is RequestState.RECEIVED:
            return timedelta(0)
        return max(end - self.received_at - self.paused, timedelta(0))

    def at_risk(self, now: datetime) -> bool:
        return self.state.open and self.elapsed(now) >= AT_RISK_AFTER

    def overdue(self, now: datetime) -> bool:
        """Open past its due date (never while the clock is paused for verification)."""
        return (
            self.state.open and self.state is not RequestState.RECEIVED and self.due_at(now) < now
        )


def add_months(instant: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when that day does not exist."""
    index = instant.month - 1 + months
    year, month = instant.year + index // 12, index % 12 + 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


# --- Transitions: each returns the request as it becomes, or refuses -----------------------


def verify(request: PrivacyRequest, verification: Verification) -> PrivacyRequest:
    _require(request, RequestState.RECEIVED, "verify identity")
    paused = max(verification.at - request.received_at, timedelta(0))
    return replace(request, state=RequestState.VERIFIED, verification=verification, paused=paused)


def approve(request: PrivacyRequest, by: str) -> PrivacyRequest:
    _require(request, RequestState.VERIFIED, "approve")
    if not request.needs_approval:
        raise Conflict(detail="this request needs no approval")
    if by == request.created_by:
        raise Forbidden(detail="a request is approved by a staff member other than its author")
    return replace(request, state=RequestState.APPROVED, approved_by=by)


def start(request: PrivacyRequest) -> PrivacyRequest:
    """Running: verified, and approved when it must be. Starting a running request is a no-op."""
    if request.state is RequestState.RUNNING:
        return request
    ready = RequestState.APPROVED if request.needs_approval else RequestState.VERIFIED
    _require(request, ready, "start")
    return replace(request, state=RequestState.RUNNING)


def complete(request: PrivacyRequest, at: datetime) -> PrivacyRequest:
    if request.state is RequestState.COMPLETED:
        return request
    _require(request, RequestState.RUNNING, "complete")
    uid = None if request.kind is RequestKind.ERASURE else request.subject_uid
    return replace(request, state=RequestState.COMPLETED, finished_at=at, subject_uid=uid)


def refuse(request: PrivacyRequest, reason: str, at: datetime) -> PrivacyRequest:
    return _close(request, RequestState.REFUSED, reason, at)


def cancel(request: PrivacyRequest, reason: str, at: datetime) -> PrivacyRequest:
    return _close(request, RequestState.CANCELLED, reason, at)


def extend(request: PrivacyRequest, extension: Extension) -> PrivacyRequest:
    if not request.state.open:
        raise Conflict(detail=f"a {request.state} request has no deadline to extend")
    _reason(extension.reason)
    taken = sum(e.months for e in request.extensions)
    if extension.months < 1 or taken + extension.months > MAX_EXTENSION_MONTHS:
        raise ValidationFailed.on(
            "months",
            "extension_too_long",
            f"at most {MAX_EXTENSION_MONTHS} months in all ({taken} taken)",
        )
    return replace(request, extensions=(*request.extensions, extension))


def _close(
    request: PrivacyRequest, state: RequestState, reason: str, at: datetime
) -> PrivacyRequest:
    if request.state in (RequestState.RUNNING, RequestState.COMPLETED) or not request.state.open:
        raise Conflict(detail=f"a {request.state} request cannot be {state}")
    _reason(reason)
    if request.state is RequestState.RECEIVED:
        request = replace(request, paused=max(at - request.received_at, timedelta(0)))
    return replace(request, state=state, outcome=reason, finished_at=at)


def _require(request: PrivacyRequest, state: RequestState, action: str) -> None:
    if request.state is not state:
        raise Conflict(detail=f"cannot {action} a {request.state} request (needs {state})")


def _reason(reason: str) -> None:
    if not reason.strip():
        raise ValidationFailed.on("reason", "required", "say why")
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationFailed.on("reason", "invalid", "at most 2000 characters, no NUL")
