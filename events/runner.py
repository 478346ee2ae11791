"""Keeps a relay draining the outbox until told to stop, backing off while publishing fails."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from events.relay import OutboxRelay

log = logging.getLogger("events.runner")


async def relay_until(
    stop: asyncio.Event,
    relay: OutboxRelay,
    *,
    idle_seconds: float = 0.5,
    max_backoff_seconds: float = 30.0,
) -> None:
    backoff = idle_seconds
    while not stop.is_set():
        try:
            await relay.drain(stop)  # returns once the outbox is empty, or on `stop`
            backoff = idle_seconds
        except Exception:  # a failed batch stays pending: log, wait longer, retry
            log.exception("events.relay.failed", extra={"retry_in_s": backoff})
            backoff = min(backoff * 2, max_backoff_seconds)
            await _sleep_or_stop(stop, backoff)
            continue
        await _sleep_or_stop(stop, idle_seconds)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
