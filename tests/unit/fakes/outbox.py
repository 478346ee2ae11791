from __future__ import annotations

from domain.events import DomainEvent


class FakeEventOutbox:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def add(self, event: DomainEvent) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]
