"""How fast the backfill may read Firestore: the 500/50/5 rule.

Firestore splits a busy key range only as traffic grows, so a new workload starts at no more
than 500 operations a second and grows by at most 50 % every 5 minutes. The clock and the
sleep are injected, so the ramp is tested without waiting for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

START_RATE = 500.0
GROWTH = 1.5
GROWTH_EVERY_SECONDS = 300.0


class RampingLimiter:
    """Operations per second: `START_RATE` for 5 minutes, then 50 % more every 5 minutes,
    never above `max_rate`.

    `await ready()` before a batch of operations waits until those already `spent` fit the
    rate; `spent(n)` after it counts what the batch really did (a page can come back short).
    """

    def __init__(
        self,
        *,
        max_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_rate is not None and max_rate <= 0:
            raise ValueError("max_rate must be positive")
        self._max_rate = max_rate
        self._clock = clock
        self._sleep = sleep
        self._began: float | None = None
        self._free_at = 0.0

    def rate(self) -> float:
        """The operations per second allowed now."""
        elapsed = 0.0 if self._began is None else self._clock() - self._began
        ramped = START_RATE * GROWTH ** int(elapsed // GROWTH_EVERY_SECONDS)
        return ramped if self._max_rate is None else min(ramped, self._max_rate)

    async def ready(self) -> None:
        now = self._clock()
        if self._began is None:
            self._began = self._free_at = now
        if self._free_at > now:
            await self._sleep(self._free_at - now)

    def spent(self, operations: int) -> None:
        now = self._clock()
        if self._began is None:
            self._began = self._free_at = now
        self._free_at = max(now, self._free_at) + operations / self.rate()
