"""The outbox relay: publishes committed events, then marks them, in batches.

At-least-once: a relay that dies after publishing and before its commit leaves the batch
unmarked, and the next run publishes it again. A duplicate, never a loss; consumers are
idempotent by event id. Several relays may run at once: each claims its batch with
`FOR UPDATE SKIP LOCKED`, so no event is in two batches in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from domain.common import Clock
from domain.events import EventPublisher
from domain.unit_of_work import UnitOfWork

log = logging.getLogger("events.relay")


class OutboxRelay:
    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        publisher: EventPublisher,
        *,
        clock: Clock,
        batch_size: int = 100,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size

    async def run_once(self) -> int:
        """Publish one batch; returns how many events it published (0: nothing pending)."""
        async with self._unit_of_work() as uow:
            batch = await uow.outbox.claim_pending(self._batch_size)
            if not batch:
                return 0
            await self._publisher.publish(batch)
            await uow.outbox.mark_published([e.id for e in batch], self._clock())
            await uow.commit()
        log.info("events.relay.published", extra={"count": len(batch)})
        return len(batch)

    async def drain(self) -> int:
        """Publish until nothing is pending; returns the total."""
        total = 0
        while published := await self.run_once():
            total += published
        return total
