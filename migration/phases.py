"""What every instance believes each entity's phase is: a snapshot, refreshed in the background.

Requests read `snapshot()` (memory only, no database round trip); `run_until` re-reads the
store every `refresh_seconds`, or at once when `nudge()` is called (by the LISTEN of
`migration.postgres.migration_phases.listen_for_phase_changes`). While the store answers, a
committed change is seen within `refresh_seconds` plus one query (sooner when nudged).

A request takes one snapshot and uses it throughout, so that its reads and writes agree with
each other even when a refresh lands meanwhile. Snapshots are immutable and replaced whole:
concurrent requests see either the old one or the new one, never a mix.

When a refresh fails the last snapshot is kept, and the failure logged (an error after
`failures_before_error` in a row). Serving the last known phases is the safe choice:
- phases change rarely and one step at a time, and adjacent phases are built to run side by
  side (instances already disagree for up to `refresh_seconds` after every change);
- the phase table lives in the database Postgres-backed requests need anyway: an instance that
  cannot read it mostly cannot serve those requests either, while refusing every request
  (Firestore-only entities included) over a missed refresh would turn a blip into an outage;
- falling back to a default phase would be worse than either: an instance in `postgres_only`
  going back to `firestore_only` would write where nobody reads.
The staleness is visible (`stale_seconds`, `consecutive_failures`) for health checks and
metrics. There is no default on start: `start()` raises if the first read fails, so an
instance that has never known the phases does not serve.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from types import MappingProxyType

from domain.migration import Entity, Phase, PhaseStore

log = logging.getLogger("migration.phases")


class PhaseReader:
    def __init__(
        self,
        store: PhaseStore,
        *,
        refresh_seconds: float = 2.0,
        timeout_seconds: float = 5.0,
        failures_before_error: int = 5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.refresh_seconds = refresh_seconds
        self._timeout = timeout_seconds
        self._failures_before_error = failures_before_error
        self._monotonic = monotonic
        self._snapshot: Mapping[Entity, Phase] | None = None
        self._refreshed_at = 0.0
        self._wake = asyncio.Event()
        self.consecutive_failures = 0

    async def start(self) -> None:
        """Reads the phases once; raises when the store cannot be read."""
        self._keep(await asyncio.wait_for(self._store.current(), timeout=self._timeout))

    def snapshot(self) -> Mapping[Entity, Phase]:
        """Every entity's phase as last read. Take it once per request."""
        if self._snapshot is None:
            raise RuntimeError("PhaseReader.start() has not succeeded yet")
        return self._snapshot

    def stale_seconds(self) -> float:
        """Time since the last successful read."""
        return self._monotonic() - self._refreshed_at

    def nudge(self) -> None:
        """Refresh now rather than at the next interval (a phase changed)."""
        self._wake.set()

    async def refresh(self) -> bool:
        """Re-reads the store; on failure keeps the last snapshot and returns False."""
        try:
            phases = await asyncio.wait_for(self._store.current(), timeout=self._timeout)
        except Exception:  # kept, not swallowed: logged, counted, retried next interval
            self.consecutive_failures += 1
            serious = self.consecutive_failures >= self._failures_before_error
            log.log(
                logging.ERROR if serious else logging.WARNING,
                "migration.phases.refresh_failed",
                exc_info=True,
                extra={
                    "consecutive_failures": self.consecutive_failures,
                    "stale_s": round(self.stale_seconds(), 1),
                },
            )
            return False
        self._keep(phases)
        return True

    async def run_until(self, stop: asyncio.Event) -> None:
        """Refreshes every `refresh_seconds` (or when nudged) until `stop` is set."""
        while not stop.is_set():
            await self._wait(stop)
            if not stop.is_set():
                await self.refresh()

    def _keep(self, phases: Mapping[Entity, Phase]) -> None:
        fresh = MappingProxyType({entity: phases[entity] for entity in Entity})
        old = self._snapshot
        if old is not None and old != fresh:
            changed = {e.value: f"{old[e]} → {fresh[e]}" for e in Entity if old[e] != fresh[e]}
            log.info("migration.phases.changed", extra={"changes": changed})
        self._snapshot = fresh
        self._refreshed_at = self._monotonic()
        self.consecutive_failures = 0

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until the interval passes, a nudge, or stop: whichever comes first."""
        waits = [asyncio.ensure_future(e.wait()) for e in (stop, self._wake)]
        try:
            await asyncio.wait(
                waits, timeout=self.refresh_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()
                with suppress(asyncio.CancelledError):
                    await waiting
        self._wake.clear()
