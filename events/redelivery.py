"""The in-process path's redeliveries: an event whose handler failed is delivered again later.

Pub/Sub redelivers a message its push endpoint refused; the embedded default has no Pub/Sub,
and a relay that retried its whole batch held every user's events behind one failing handler.
Instead the consumer schedules a named task, `events.redeliver`, carrying the encoded event
(ids only) and the number of the delivery it makes, through the task port (the Postgres queue
in the embedded default, Cloud Tasks otherwise), and the relay moves on. The task delivers the
event again; on the `FOCUS_CONSUMER_MAX_ATTEMPTS`-th delivery a still-failing event is
recorded in `failed_messages`, as the Pub/Sub path records it, for `focus events replay`.

The waits are Pub/Sub's retry policy (terraform/pubsub.tf): 10 s, doubling, at most 600 s.
Named by event, subscription and delivery, a task scheduled twice (the relay published the
event again) runs once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from domain.common import Clock
from domain.tasks import Task, TaskScheduler

log = logging.getLogger("events.redelivery")

REDELIVER_TASK = "events.redeliver"


@dataclass(frozen=True, slots=True)
class Backoff:
    first: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(seconds=600)

    def delay(self, attempt: int) -> timedelta:
        """The wait before the `attempt`-th delivery (the first redelivery is the 2nd)."""
        step: timedelta = self.first * 2 ** min(max(attempt - 2, 0), 32)
        return min(self.cap, step)


class Redeliveries:
    def __init__(
        self, scheduler: TaskScheduler, *, clock: Clock, backoff: Backoff | None = None
    ) -> None:
        self._scheduler = scheduler
        self._clock = clock
        self._backoff = backoff or Backoff()

    async def schedule(self, subscription: str, event_id: str, data: bytes, attempt: int) -> None:
        """Delivers the encoded event `data` to `subscription` again, as delivery `attempt`."""
        delay = self._backoff.delay(attempt)
        payload = {"subscription": subscription, "event": data.decode(), "attempt": attempt}
        task = Task(
            REDELIVER_TASK,
            payload,
            self._clock() + delay,
            name=_name(subscription, event_id, attempt),
        )
        await self._scheduler.schedule(task)
        log.warning(
            "events.redelivery.scheduled",
            extra={
                "subscription": subscription,
                "event_id": event_id,
                "attempt": attempt,
                "in_s": delay.total_seconds(),
            },
        )


def _name(subscription: str, event_id: str, attempt: int) -> str:
    """Task names allow `[A-Za-z0-9_-]{1,100}`: the pair is hashed, the attempt kept."""
    key = hashlib.sha256(f"{subscription}/{event_id}".encode()).hexdigest()[:40]
    return f"redeliver-{key}-{attempt}"
