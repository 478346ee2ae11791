"""Domain events: what happened, in the past tense, recorded with the change that caused it.

An event carries ids, not personal data: a consumer looks the rest up (and finds nothing if the
user was erased meanwhile). `record_version` is the changed record's version, so consumers can
drop an event older than what they have already applied.

Every type is declared once, below (`EventType`): its name on the wire, what its `subject_id`
names, its schema version and its payload. Code names the members, never strings, so a
misspelt type fails mypy; a string from the wire becomes a member through `EventType.parse`,
which refuses a type not declared here. docs/events.md lists them (tests/unit/test_event_types.py
checks it against these declarations); docs/adr/0015-event-types.md says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from domain.common import new_id


class Subject(StrEnum):
    """What an event's `subject_id` names (the values are docs/events.md's words)."""

    USER = "uid"
    DEVICE = "installation id"
    BLOCKLIST = "blocklist UUID"
    SCHEDULE = "schedule UUID"
    FOCUS_SESSION = "session UUID"
    USAGE_REPORT = "<date>/<installation id>"
    PRIVACY_REQUEST = "privacy request UUID"
    INSIGHT = "insight UUID"


class UnknownEventType(ValueError):
    """A type on the wire (or in an outbox row) that `EventType` does not declare."""


class EventType(StrEnum):
    """Every domain event type, with what its subject is, its schema version and payload."""

    subject: Subject
    schema_version: int
    """Grows when the type's payload changes shape; consumers refuse versions they don't know."""
    payload: tuple[str, ...]
    """The payload's keys at `schema_version`: none in version 1 (a consumer reads the rest
    through `subject_id`)."""

    def __new__(
        cls, value: str, subject: Subject, schema_version: int = 1, payload: tuple[str, ...] = ()
    ) -> EventType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.subject = subject
        member.schema_version = schema_version
        member.payload = payload
        return member

    PROFILE_UPDATED = "profile.updated", Subject.USER
    DEVICE_REGISTERED = "device.registered", Subject.DEVICE
    DEVICE_UPDATED = "device.updated", Subject.DEVICE
    DEVICE_REMOVED = "device.removed", Subject.DEVICE
    DEVICE_PUSH_TOKEN_REVOKED = "device.push_token_revoked", Subject.DEVICE
    BLOCKLIST_CREATED = "blocklist.created", Subject.BLOCKLIST
    BLOCKLIST_UPDATED = "blocklist.updated", Subject.BLOCKLIST
    BLOCKLIST_DELETED = "blocklist.deleted", Subject.BLOCKLIST
    SCHEDULE_CREATED = "schedule.created", Subject.SCHEDULE
    SCHEDULE_UPDATED = "schedule.updated", Subject.SCHEDULE
    SCHEDULE_DELETED = "schedule.deleted", Subject.SCHEDULE
    FOCUS_SESSION_STARTED = "focus_session.started", Subject.FOCUS_SESSION
    FOCUS_SESSION_COMPLETED = "focus_session.completed", Subject.FOCUS_SESSION
    FOCUS_SESSION_ABANDONED = "focus_session.abandoned", Subject.FOCUS_SESSION
    USAGE_REPORTED = "usage.reported", Subject.USAGE_REPORT
    SYNC_REQUESTED = "sync.requested", Subject.USER
    PRIVACY_EXPORT_READY = "privacy.export_ready", Subject.PRIVACY_REQUEST
    PRIVACY_REQUEST_EXTENDED = "privacy.request_extended", Subject.PRIVACY_REQUEST
    INSIGHT_CREATED = "insight.created", Subject.INSIGHT
    INSIGHT_DISMISSED = "insight.dismissed", Subject.INSIGHT
    INSIGHT_ACCEPTED = "insight.accepted", Subject.INSIGHT

    @classmethod
    def parse(cls, value: str) -> EventType:
        """The declared type named `value`; raises `UnknownEventType` for any other string."""
        try:
            return _BY_NAME[value]
        except KeyError:
            raise UnknownEventType(f"{value!r} is not a declared event type") from None


_BY_NAME: dict[str, EventType] = {member.value: member for member in EventType}


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: EventType
    user_id: str
    subject_id: str
    """The changed record, as `type.subject` says: a UUID, an installation id, a uid,
    `<date>/<installation_id>`."""
    record_version: int
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    schema_version: int = 0
    """The payload's shape; 0 (the default) stands for the type's declared version. An event
    read back from the outbox or the wire keeps the version it was written with."""
    origin_installation_id: str | None = None
    """The installation that made the change, when its request said (`X-Installation-Id`):
    silent pushes go to the user's other devices, not back to this one."""
    id: UUID = field(default_factory=new_id)
    trace_context: str | None = field(default=None, compare=False)
    """The W3C `traceparent` of what caused it (a request, a job), kept with the event so
    that its fan-out continues the same trace (app/tracing.py). Ids and flags only; not part
    of what the event says, so not compared."""

    def __post_init__(self) -> None:
        # mypy holds our packages to `EventType`; this holds everything else (tests, scripts)
        # to it too, so a misspelt string fails where it is written, not in a consumer.
        if not isinstance(self.type, EventType):
            raise TypeError(f"an event's type is an EventType, not {self.type!r}")
        if self.schema_version == 0:
            object.__setattr__(self, "schema_version", self.type.schema_version)


class EventOutbox(Protocol):
    """Where events wait to be published: written in the same transaction as their change."""

    async def add(self, event: DomainEvent) -> None: ...

    async def claim_pending(self, limit: int) -> list[DomainEvent]:
        """The first unpublished events in the queue, locked for this transaction; ones that
        another relay holds are skipped, so several relays can drain the outbox at once. The
        queue is by turn: each user's events in the order written, a user who writes many at
        once taking turns with others (docs/adr/0026-relay-turns.md). Only events of the types
        declared here: another version's new type waits for a relay that knows it (it still
        counts in `first_waiting_at`)."""
        ...

    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None:
        """Marks claimed events published, in this transaction. The mark need not be durable
        when the commit returns: one lost to a database crash publishes its events again,
        which at-least-once allows."""
        ...

    async def first_waiting_at(self) -> datetime | None:
        """When the first unpublished event in the queue occurred (None: nothing pending),
        whether or not a relay holds it: the relay's lag. One row off the queue's index."""
        ...


class EventPublisher(Protocol):
    """Hands events to their consumers (Pub/Sub, or handlers in this process).

    Returns only when every event of the batch is accepted; raises otherwise.
    """

    async def publish(self, events: Sequence[DomainEvent]) -> None: ...
