"""Domain events: what happened, in the past tense, recorded with the change that caused it.

An event carries ids, not personal data: a consumer looks the rest up (and finds nothing if the
user was erased meanwhile). `record_version` is the changed record's version, so consumers can
drop an event older than what they have already applied. Event types and their payloads are
documented in docs/events.md; `schema_version` grows when a payload changes shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.common import new_id

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str
    """Past tense, dotted: `focus_session.started`."""
    user_id: str
    subject_id: str
    """The changed record: a UUID, an installation id, a uid, `<date>/<installation_id>`."""
    record_version: int
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    origin_installation_id: str | None = None
    """The installation that made the change, when its request said (`X-Installation-Id`):
    silent pushes go to the user's other devices, not back to this one."""
    id: UUID = field(default_factory=new_id)


class EventOutbox(Protocol):
    """Where events wait to be published: written in the same transaction as their change."""

    async def add(self, event: DomainEvent) -> None: ...

    async def claim_pending(self, limit: int) -> list[DomainEvent]:
        """The oldest unpublished events, locked for this transaction; ones that another
        relay holds are skipped, so several relays can drain the outbox at once."""
        ...

    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None:
        """Marks claimed events published, in this transaction. The mark need not be durable
        when the commit returns: one lost to a database crash publishes its events again,
        which at-least-once allows."""
        ...

    async def oldest_pending_at(self) -> datetime | None:
        """When the oldest unpublished event occurred (None: nothing pending), whether or not
        a relay holds it: the relay's lag. One row off the pending index, so cheap to ask."""
        ...


class EventPublisher(Protocol):
    """Hands events to their consumers (Pub/Sub, or handlers in this process).

    Returns only when every event of the batch is accepted; raises otherwise.
    """

    async def publish(self, events: Sequence[DomainEvent]) -> None: ...
