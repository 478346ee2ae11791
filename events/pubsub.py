"""The Google Cloud Pub/Sub publisher: one message per event, ordered per user.

The ordering key is the user id, so a consumer sees one user's events in the order the relay
claimed them. With ordering on, a failed publish pauses its key in the client: every later
message with that key fails at once until `resume_publish`. We resume after reporting the
failure, so the next relay run (which republishes the whole batch) can go through.

With `PUBSUB_EMULATOR_HOST` set, the client library talks to the emulator by itself.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

import anyio.to_thread

# Not `from google.cloud import pubsub_v1`: once a typed google.cloud package (firestore) is
# in mypy's graph, that form fails on the untyped namespace member.
import google.cloud.pubsub_v1 as pubsub_v1

from domain.events import DomainEvent, EventType
from events.codec import encode

DEFAULT_TIMEOUT_SECONDS = 60.0


class PublishFailed(RuntimeError):
    """Some events of a batch were not accepted; the batch stays pending and is retried."""


class PubSubPublisher:
    def __init__(
        self,
        project_id: str,
        topic: str,
        *,
        publisher_client: Any = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if publisher_client is None:
            options = pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
            publisher_client = pubsub_v1.PublisherClient(publisher_options=options)
        self._client = publisher_client
        self._topic_path: str = self._client.topic_path(project_id, topic)
        self._timeout = timeout_seconds

    @property
    def topic_path(self) -> str:
        return self._topic_path

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        futures = [
            self._client.publish(
                self._topic_path,
                encode(event),
                ordering_key=event.user_id,
                **_attributes(event),
            )
            for event in events
        ]
        # `.result()` blocks: wait in a worker thread, not on the event loop.
        errors = await anyio.to_thread.run_sync(_wait_all, futures, self._timeout)
        if not errors:
            return
        paused = {events[i].user_id for i, e in errors.items() if not isinstance(e, _NoAnswer)}
        for key in sorted(paused):
            # Not paused after all (still in flight, or already resumed): nothing to resume.
            with contextlib.suppress(RuntimeError):
                self._client.resume_publish(self._topic_path, key)
        first = next(iter(errors.values()))
        raise PublishFailed(
            f"{len(errors)} of {len(events)} events not accepted by {self._topic_path}: {first!r}"
        ) from first


EVENT_TYPE = "event_type"
"""The attribute naming each message's event type: what a subscription's filter reads."""
MAX_FILTER_BYTES = 256
"""Pub/Sub's limit on a subscription filter."""


def subscription_filter(types: Iterable[EventType]) -> str:
    """A subscription filter delivering only events of `types` (Pub/Sub acknowledges the rest
    itself, unbilled for delivery and never pushed). Fixed when the subscription is created:
    other types mean a new subscription."""
    wanted = sorted({t.value for t in types})
    if not wanted:
        raise ValueError("a filter needs at least one event type")
    found = " OR ".join(f'attributes.{EVENT_TYPE} = "{value}"' for value in wanted)
    if len(found.encode()) > MAX_FILTER_BYTES:
        raise ValueError(f"{len(found.encode())} bytes: Pub/Sub takes {MAX_FILTER_BYTES} at most")
    return found


def _attributes(event: DomainEvent) -> dict[str, str]:
    attributes = {
        "event_id": str(event.id),
        EVENT_TYPE: event.type.value,
        "schema_version": str(event.schema_version),
    }
    if event.trace_context is not None:  # the consumer continues the event's trace
        attributes["traceparent"] = event.trace_context
    return attributes


class _NoAnswer(TimeoutError):
    """Still in flight at the deadline: its key is not paused, and it may yet arrive."""


def _wait_all(
    futures: Sequence[concurrent.futures.Future[str]], timeout: float
) -> dict[int, BaseException]:
    """Waits for every future under one deadline; returns the failures by position."""
    done, _ = concurrent.futures.wait(futures, timeout=timeout)
    errors: dict[int, BaseException] = {}
    for i, future in enumerate(futures):
        if future not in done:
            errors[i] = _NoAnswer(f"no answer from Pub/Sub after {timeout}s")
            continue
        error = future.exception()
        if error is not None:
            errors[i] = error
    return errors
