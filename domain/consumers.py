"""Event consumers: at-least-once delivery made idempotent, and messages given up on.

Pub/Sub (or the in-process relay) may deliver an event more than once. A consumer records the
events it handled per subscription, so a duplicate is acknowledged without running its handler
again. A message that can never be handled (it does not decode, or a handler says it is
poison) is recorded and acknowledged instead of being redelivered forever; `focus events
replay` runs such messages again once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from domain.common import new_id
from domain.events import DomainEvent

EventHandler = Callable[[DomainEvent], Awaitable[None]]


class PoisonMessage(Exception):
    """Raised by a handler for an event it can never handle: recorded, acknowledged, not retried."""


@dataclass(frozen=True, slots=True)
class FailedMessage:
    subscription: str
    data: bytes
    """The message body as received (an encoded event: ids, no personal data)."""
    attributes: Mapping[str, str]
    error: str
    attempts: int
    failed_at: datetime
    message_id: str | None = None
    event_id: str | None = None
    id: UUID = field(default_factory=new_id)


class Verdict(StrEnum):
    ACK = "ack"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    subscription: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_id: str | None = None
    delivery_attempt: int | None = None
    """Pub/Sub counts deliveries only on subscriptions with a dead-letter policy."""


class MessageReceiver(Protocol):
    async def receive(self, message: ReceivedMessage) -> Verdict:
        """Raises `NotFound` for a subscription nobody consumes."""
        ...


class ProcessedEvents(Protocol):
    def processing(
        self, subscription: str, event: DomainEvent, now: datetime
    ) -> AbstractAsyncContextManager[bool]:
        """Holds the (subscription, event) pair while its handler runs.

        Entering yields True the first time, False when the pair was handled already. A
        concurrent duplicate waits until the first one finishes. Leaving normally records the
        pair as handled; leaving with an error forgets it, so a redelivery runs again.
        """
        ...


class FailedMessages(Protocol):
    async def record(self, failed: FailedMessage) -> None: ...

    async def pending(self, subscription: str | None, limit: int) -> Sequence[FailedMessage]:
        """Failures not replayed yet, oldest first (of one subscription, or of all)."""
        ...

    async def mark_replayed(self, failed_id: UUID, at: datetime) -> None: ...
