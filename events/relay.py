"""The outbox relay: publishes committed events, then marks them, in batches.

At-least-once: a relay that dies after publishing and before its commit leaves the batch
unmarked, and the next run publishes it again. A duplicate, never a loss; consumers are
idempotent by event id. Several relays may run at once: each claims its batch with
`FOR UPDATE SKIP LOCKED`, so no event is in two batches in flight; a user's events then keep
their order within each relay's batches, not across relays (docs/adr/0026). Metrics:
events/metrics.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from domain.common import Clock
from domain.events import DomainEvent, EventOutbox, EventPublisher
from domain.trace_context import context_of, traceparent_of
from domain.unit_of_work import UnitOfWork
from events import metrics

log = logging.getLogger("events.relay")
tracer = trace.get_tracer(__name__)

DEFAULT_BATCH_SIZE = 500
"""Four round trips per batch (begin, claim, mark, commit) dominate small batches: 100 relays
0.39x the events/s of a bare DELETE … RETURNING, 500 relays 0.55x (bench/outbox_relay.py).
A failed batch is published again whole: more duplicates, which consumers drop by event id."""


class OutboxRelay:
    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        publisher: EventPublisher,
        *,
        clock: Clock,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lag_every_seconds: float = 1.0,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size
        self._lag_every = lag_every_seconds
        self._lag_due = float("-inf")  # time.monotonic(): the first run measures

    async def run_once(self) -> int:
        """Publish one batch; returns how many events it published (0: nothing pending)."""
        async with self._unit_of_work() as uow:
            return await self._relay_batch(uow)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Publish until nothing is pending, or until `stop` is set; returns the total.

        One unit of work throughout, each batch still its own transaction: checking a
        connection out per batch (the pool pings it) cost about a fifth of the time of a
        batch of 100 (bench/outbox_relay.py).
        """
        total = 0
        async with self._unit_of_work() as uow:
            while not (stop and stop.is_set()) and (published := await self._relay_batch(uow)):
                total += published
        return total

    async def _relay_batch(self, uow: UnitOfWork) -> int:
        batch = await uow.outbox.claim_pending(self._batch_size)
        # The lag is one more indexed query. An idle run always measures: it is about to
        # sleep, and the gauge must fall to 0 once the outbox is empty (or show the events
        # another relay holds). A busy run measures at most every `lag_every_seconds`, so
        # draining a backlog stays claim, publish, mark per batch.
        now = time.monotonic()
        if not batch or now >= self._lag_due:
            self._lag_due = now + self._lag_every
            await self._measure_lag(uow.outbox)
        if not batch:
            return 0
        started = time.perf_counter()
        try:
            with publishing(batch) as traced:
                await self._publisher.publish(traced)
            await uow.outbox.mark_published([e.id for e in batch], self._clock())
            await uow.commit()
        except Exception:
            metrics.BATCHES_FAILED.inc()
            raise
        metrics.PUBLISH_SECONDS.observe(time.perf_counter() - started)
        metrics.BATCHES_PUBLISHED.inc()
        metrics.EVENTS_PUBLISHED.inc(len(batch))
        log.info("events.relay.published", extra={"count": len(batch)})
        return len(batch)

    async def _measure_lag(self, outbox: EventOutbox) -> None:
        # The age of the first event in the queue, not of the oldest one: a user whose own
        # burst waits for its turns holds up only their own events (docs/adr/0026-relay-turns.md).
        first = await outbox.first_waiting_at()
        age = 0.0 if first is None else (self._clock() - first).total_seconds()
        metrics.LAG.set(max(age, 0.0))  # another instance's clock may run ahead of ours


@contextmanager
def publishing(events: Sequence[DomainEvent]) -> Iterator[list[DomainEvent]]:
    """One `publish <type>` span per event, in the trace of the request or job that wrote it;
    yields the events carrying their span's context, which the publisher hands on (a Pub/Sub
    attribute, or the in-process consumer). An event written outside any trace (tracing off,
    a request whose trace is not kept, a command) goes as it is."""
    spans = []
    traced = []
    for event in events:
        if event.trace_context is None:  # written outside any trace: none to continue
            traced.append(event)
            continue
        span = tracer.start_span(
            f"publish {event.type}",
            context=context_of(event.trace_context),
            kind=SpanKind.PRODUCER,
            attributes={"messaging.message.id": str(event.id), "focus.event.type": event.type},
        )
        spans.append(span)
        traceparent = traceparent_of(span)
        traced.append(event if traceparent is None else replace(event, trace_context=traceparent))
    try:
        yield traced
    except BaseException as error:
        for span in spans:
            span.record_exception(error)
            span.set_status(trace.StatusCode.ERROR)
        raise
    finally:
        for span in spans:
            span.end()
