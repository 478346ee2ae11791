"""The embedded default's publisher: events go straight to handlers in this process."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from domain.events import DomainEvent, EventType

Handler = Callable[[DomainEvent], Awaitable[None]]


class InProcessPublisher:
    """Calls every handler subscribed to an event's type, in order; a failure fails the batch
    (the relay publishes it again later: handlers are idempotent by event id)."""

    def __init__(self) -> None:
        self._handlers: defaultdict[EventType, list[Handler]] = defaultdict(list)
        self._every: list[Handler] = []

    def subscribe(self, event_type: EventType, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def subscribe_all(self, handler: Handler) -> None:
        """`handler` sees every event, before the handlers of single types."""
        self._every.append(handler)

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            for handler in (*self._every, *self._handlers.get(event.type, ())):
                await handler(event)
