"""Runs an event through a subscription's handler, once, whatever the delivery does.

Used by the Pub/Sub push endpoint (one message per request) and by the in-process publisher
of the embedded default (every subscription, in order). Outcomes:

- handled, or a duplicate of an event handled before → acknowledge;
- the handler failed → not acknowledged: Pub/Sub redelivers with backoff; in-process, a named
  `events.redeliver` task delivers it again later with the same backoff (events/redelivery.py),
  and the relay moves on to other events. After `max_attempts` deliveries the message is
  recorded and acknowledged, on both paths; Pub/Sub's dead-letter topic catches what still
  slips through;
- poison (it does not decode, or the handler raised `PoisonMessage`) → recorded and
  acknowledged at once: retrying cannot help. `focus events replay` runs recorded ones again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from prometheus_client import Counter

from domain.common import Clock
from domain.consumers import (
    EventHandler,
    FailedMessage,
    FailedMessages,
    PoisonMessage,
    ProcessedEvents,
    ReceivedMessage,
    Verdict,
)
from domain.errors import NotFound
from domain.events import DomainEvent
from domain.trace_context import context_of
from events.codec import UndecodableEvent, decode, encode
from events.redelivery import Redeliveries

log = logging.getLogger("events.consumer")
tracer = trace.get_tracer(__name__)

CONSUMED = Counter(
    "focus_events_consumed_total",
    "Events a subscription took in, by outcome (handled, duplicate, failed, gave_up).",
    ["subscription", "outcome"],
)

DEFAULT_MAX_ATTEMPTS = 10


class EventConsumer:
    def __init__(
        self,
        subscriptions: Mapping[str, EventHandler],
        processed: ProcessedEvents,
        failed: FailedMessages,
        *,
        clock: Clock,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        redeliveries: Redeliveries | None = None,
    ) -> None:
        """`redeliveries` schedules the in-process path's next attempts; without it, an
        in-process failure raises (its caller retries)."""
        self.subscriptions = dict(subscriptions)
        self._processed = processed
        self._failed = failed
        self._clock = clock
        self._max_attempts = max_attempts
        self._redeliveries = redeliveries

    async def receive(self, message: ReceivedMessage) -> Verdict:
        """One pushed message; the verdict becomes the HTTP status Pub/Sub sees."""
        if message.subscription not in self.subscriptions:
            raise NotFound(code="unknown_subscription", detail=message.subscription)
        try:
            event = decode(message.data)
        except UndecodableEvent as error:
            await self._give_up(message, error, event_id=message.attributes.get("event_id"))
            return Verdict.ACK
        # The trace of the change that caused it rides as an attribute, beside the body.
        traced = replace(event, trace_context=message.attributes.get("traceparent"))
        return await self._deliver(message, traced)

    async def _deliver(
        self, message: ReceivedMessage, event: DomainEvent, *, retry_raises: bool = False
    ) -> Verdict:
        try:
            await self.consume(message.subscription, event)
        except PoisonMessage as error:
            await self._give_up(message, error, event_id=str(event.id))
            return Verdict.ACK
        except Exception as error:
            attempts = message.delivery_attempt or 1
            log.exception(
                "events.consumer.failed",
                extra={
                    "subscription": message.subscription,
                    "event_id": str(event.id),
                    "attempt": attempts,
                },
            )
            CONSUMED.labels(message.subscription, "failed").inc()
            if attempts >= self._max_attempts:
                await self._give_up(message, error, event_id=str(event.id))
                return Verdict.ACK
            if retry_raises:
                raise
            return Verdict.RETRY
        return Verdict.ACK

    async def consume(self, subscription: str, event: DomainEvent) -> bool:
        """Runs the handler unless this event was handled before; True when it ran.

        Raises what the handler raised (nothing is recorded then).
        """
        handler = self.subscriptions[subscription]
        with consuming(subscription, event) as span:
            async with self._processed.processing(subscription, event, self._clock()) as first:
                if not first:
                    CONSUMED.labels(subscription, "duplicate").inc()
                    span.set_attribute("focus.consumer.outcome", "duplicate")
                    return False
                await handler(event)
            CONSUMED.labels(subscription, "handled").inc()
            span.set_attribute("focus.consumer.outcome", "handled")
        return True

    async def consume_everywhere(self, event: DomainEvent) -> None:
        """The in-process path: every subscription sees the event, as its first delivery.

        A failure is delivered again later by a task (events/redelivery.py), so the relay
        marks the event published and other users' events move on. Raises only when that
        task cannot be scheduled (or without `redeliveries`: the relay retries its batch).
        """
        for subscription in self.subscriptions:
            await self._deliver_in_process(subscription, event, attempt=1)

    async def redeliver(self, payload: Mapping[str, Any]) -> None:
        """The `events.redeliver` task: the in-process path's next delivery of an event."""
        subscription, attempt = str(payload["subscription"]), int(payload["attempt"])
        data = str(payload["event"]).encode()
        message = ReceivedMessage(subscription, data, delivery_attempt=attempt)
        try:
            event = decode(data)
        except UndecodableEvent as error:
            await self._give_up(message, error, event_id=None)
            return
        if subscription not in self.subscriptions:  # removed since: kept for a replay
            gone = LookupError(f"no subscription {subscription!r} in this process")
            await self._give_up(message, gone, event_id=str(event.id))
            return
        await self._deliver_in_process(subscription, event, attempt=attempt)

    async def _deliver_in_process(
        self, subscription: str, event: DomainEvent, *, attempt: int
    ) -> None:
        message = ReceivedMessage(
            subscription, encode(event), {"event_id": str(event.id)}, delivery_attempt=attempt
        )
        redeliveries = self._redeliveries
        verdict = await self._deliver(message, event, retry_raises=redeliveries is None)
        if verdict is Verdict.RETRY and redeliveries is not None:
            await redeliveries.schedule(subscription, str(event.id), message.data, attempt + 1)

    async def _give_up(
        self, message: ReceivedMessage, error: Exception, event_id: str | None
    ) -> None:
        log.error(
            "events.consumer.gave_up",
            extra={
                "subscription": message.subscription,
                "message_id": message.message_id,
                "event_id": event_id,
                "error": type(error).__name__,
            },
        )
        CONSUMED.labels(message.subscription, "gave_up").inc()
        await self._failed.record(
            FailedMessage(
                subscription=message.subscription,
                data=message.data,
                attributes=message.attributes,
                error=f"{type(error).__name__}: {error}",
                attempts=message.delivery_attempt or 1,
                failed_at=self._clock(),
                message_id=message.message_id,
                event_id=event_id,
            )
        )

    async def replay(self, subscription: str | None = None, limit: int = 1000) -> ReplayReport:
        """Runs recorded failures again; each that now succeeds is marked replayed."""
        report = ReplayReport()
        for failed in await self._failed.pending(subscription, limit):
            if failed.subscription not in self.subscriptions:
                report.skipped += 1
                continue
            try:
                event = decode(failed.data)
                await self.consume(failed.subscription, event)
            except Exception as error:
                log.warning(
                    "events.replay.still_failing",
                    extra={"failed_id": str(failed.id), "error": type(error).__name__},
                )
                report.still_failing += 1
                continue
            await self._failed.mark_replayed(failed.id, self._clock())
            report.replayed += 1
        return report


def consuming(subscription: str, event: DomainEvent) -> AbstractContextManager[trace.Span]:
    """The span of one subscription's handling of `event`, in the trace of the change that
    caused it; linked to the current span (a Pub/Sub push request, a task's run), whose trace
    is another one."""
    current = trace.get_current_span().get_span_context()
    return tracer.start_as_current_span(
        f"consume {subscription}",
        context=context_of(event.trace_context),
        kind=SpanKind.CONSUMER,
        links=[Link(current)] if current.is_valid else None,
        attributes={
            "messaging.destination.name": subscription,
            "messaging.message.id": str(event.id),
            "focus.event.type": event.type,
        },
    )


@dataclass
class ReplayReport:
    replayed: int = 0
    still_failing: int = 0
    skipped: int = 0
