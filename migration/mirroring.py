"""Getting committed writes into Firestore: right after the commit, before a read, and later.

Every write of a Firestore-writing phase leaves a `PendingMirror` row in its own Postgres
transaction (ADR 0012). Three paths write those rows to Firestore, all through the same
version-conditional write, so they can race without harm:

- the writing request, right after its commit: inline while Firestore is the read store (the
  next read should find it there), in the background once Postgres is (nobody reads it);
- a read of a Firestore-read phase first applies the user's pending mirrors of that entity
  (read-your-writes when the inline write failed), and fails as unavailable if it cannot;
- `run_until`: the repair loop leases due rows and retries them with backoff, forever: a
  mirror is only ever deleted once Firestore holds its version or a newer one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import timedelta

from prometheus_client import Counter, Gauge

from domain.common import Clock, utc_now
from domain.migration import PendingMirror
from migration.firestore.mirrors import FirestoreMirrorWriter, MirrorOutcome
from migration.postgres.pending_mirrors import PostgresMirrorQueue

log = logging.getLogger("migration.mirroring")

MIRRORS = Counter(
    "focus_migration_mirrors_total",
    "Firestore mirrors of committed writes, by entity, path (commit, read, repair) and outcome"
    " (written, stale, failed).",
    ["entity", "path", "outcome"],
)
BACKLOG = Gauge(
    "focus_migration_mirror_backlog",
    "Firestore mirrors not yet written, as the repair loop last counted them.",
)
OLDEST = Gauge(
    "focus_migration_mirror_oldest_seconds",
    "Age of the oldest Firestore mirror not yet written (0 when none).",
)

GRACE = timedelta(seconds=30)
"""How long the repair loop leaves a new mirror to the request that wrote it."""
LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=5)


class FirestoreBehind(Exception):
    """Firestore is the read store but lacks committed writes that cannot be applied now: the
    read would be stale, so it is refused as a store being unavailable (503, retry)."""


class Mirroring:
    def __init__(
        self,
        queue: PostgresMirrorQueue,
        writer: FirestoreMirrorWriter,
        *,
        timeout_seconds: float = 2.0,
        clock: Clock = utc_now,
        jitter: random.Random | None = None,
    ) -> None:
        self.queue = queue
        self.writer = writer
        self._timeout = timeout_seconds
        self._clock = clock
        self._jitter = jitter or random.Random()  # noqa: S311 (backoff jitter, not secrets)
        self._background: set[asyncio.Task[bool]] = set()

    async def apply(self, mirrors: Sequence[PendingMirror], *, path: str) -> bool:
        """Writes each mirror (in the order given) and deletes its row; a failure leaves the
        row for the repair loop, with backoff. True when every one is done."""
        done: list[int] = []
        all_done = True
        for mirror in mirrors:
            assert mirror.id is not None, "only recorded mirrors are applied"
            try:
                outcome = await asyncio.wait_for(self.writer.apply(mirror), self._timeout)
            except Exception as error:  # kept: the row stays and is retried with backoff
                all_done = False
                MIRRORS.labels(mirror.entity.value, path, "failed").inc()
                log.warning(
                    "migration.mirror.failed",
                    extra={
                        "entity": mirror.entity.value,
                        "mirror_id": mirror.id,
                        "attempts": mirror.attempts + 1,
                        "error": type(error).__name__,
                    },
                )
                await self._retry_later(mirror, error)
                continue
            MIRRORS.labels(mirror.entity.value, path, outcome.value).inc()
            if outcome is MirrorOutcome.STALE:
                log.debug("migration.mirror.stale", extra={"mirror_id": mirror.id})
            done.append(mirror.id)
        await self.queue.done(done)
        return all_done

    def apply_in_background(self, mirrors: Sequence[PendingMirror]) -> None:
        """After the response: nobody reads Firestore in this phase, the row makes it durable."""
        task = asyncio.create_task(self.apply(mirrors, path="commit"))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def catch_up(self, pending: Sequence[PendingMirror]) -> None:
        """Before reading Firestore: a user's committed, pending mirrors of the entity go first."""
        if pending and not await self.apply(pending, path="read"):
            raise FirestoreBehind(f"{pending[0].entity} mirrors of a user could not be written")

    async def repair_once(self, limit: int = 200) -> int:
        """Applies up to `limit` due mirrors; returns how many were due."""
        due = await self.queue.lease_due(limit, LEASE)
        if due:
            await self.apply(due, path="repair")
        return len(due)

    async def run_until(self, stop: asyncio.Event, *, interval_seconds: float = 5.0) -> None:
        """The repair loop: drains what is due, then waits `interval_seconds`."""
        while not stop.is_set():
            try:
                while await self.repair_once() and not stop.is_set():
                    pass
                await self._measure()
            except Exception:  # the loop outlives a database blip; it is logged and retried
                log.exception("migration.mirror.repair_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_seconds)

    async def drain_background(self) -> None:
        """Waits for mirrors still being written after their responses (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _measure(self) -> None:
        count, oldest = await self.queue.backlog()
        BACKLOG.set(count)
        OLDEST.set(0 if oldest is None else (self._clock() - oldest).total_seconds())

    async def _retry_later(self, mirror: PendingMirror, error: Exception) -> None:
        # Exponential with full jitter, from 1 s up to MAX_BACKOFF.
        ceiling = min(MAX_BACKOFF.total_seconds(), 2.0 ** min(mirror.attempts, 16))
        delay = timedelta(seconds=self._jitter.uniform(ceiling / 2, ceiling))
        assert mirror.id is not None
        try:
            await self.queue.retry_later(mirror.id, repr(error), self._clock() + delay)
        except Exception:  # the row is still there (leased or due): it will be retried anyway
            log.exception("migration.mirror.retry_not_recorded", extra={"mirror_id": mirror.id})
