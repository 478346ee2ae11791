from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from domain.events import DomainEvent


class FakeEventOutbox:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self.published: set[UUID] = set()

    async def add(self, event: DomainEvent) -> None:
        self.events.append(event)

    async def claim_pending(self, limit: int) -> list[DomainEvent]:
        return [e for e in self.events if e.id not in self.published][:limit]

    async def mark_published(self, event_ids: Sequence[UUID], at: datetime) -> None:
        self.published.update(event_ids)

    async def first_waiting_at(self) -> datetime | None:
        pending = [e.occurred_at for e in self.events if e.id not in self.published]
        return pending[0] if pending else None  # in the order added: every user takes turns
