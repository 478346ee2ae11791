"""The hourly watch over data-subject requests: the statutory clock as metrics (what is open,
what is at risk at day 20, what is overdue, how long until the next is due), and archives past
their 30 days deleted wherever the bucket does not do it itself (the local folder).

Alerts read the metrics (terraform: `focus_privacy_requests_at_risk` > 0). Like the purge, the
task is named by its hour: however many processes schedule it, one runs per hour.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from prometheus_client import Gauge

from domain.common import Clock
from domain.files import FileStore
from domain.privacy.model import PrivacyRequest, RequestKind, RequestState
from domain.privacy.ports import PrivacyStore, RequestFilter
from domain.tasks import Task, TaskScheduler
from privacy.exports import archive_key

log = logging.getLogger("focus.privacy")

WATCH_TASK = "privacy.watch"
EVERY = timedelta(hours=1)
ARCHIVES_KEPT = timedelta(days=30)

OPEN = Gauge("focus_privacy_requests_open", "Data-subject requests not yet answered", ["kind"])
AT_RISK = Gauge(
    "focus_privacy_requests_at_risk",
    "Open requests 20 days or more on the statutory clock (an alert condition)",
    ["kind"],
)
OVERDUE = Gauge("focus_privacy_requests_overdue", "Open requests past their due date", ["kind"])
DUE_SECONDS = Gauge(
    "focus_privacy_requests_due_seconds",
    "Seconds until the earliest open request is due (negative: overdue)",
    ["kind"],
)


class PrivacyWatch:
    def __init__(
        self,
        store: Callable[[], PrivacyStore],
        files: FileStore,
        scheduler: TaskScheduler,
        *,
        clock: Clock,
    ) -> None:
        self._store = store
        self._files = files
        self._scheduler = scheduler
        self._clock = clock

    async def run(self, payload: Mapping[str, Any]) -> None:
        await self.observe()
        await self.drop_expired_archives()
        await self.schedule_next()

    async def observe(self) -> dict[RequestKind, int]:
        """Sets the clock's metrics from the open requests; the number at risk per kind."""
        now = self._clock()
        states = [s for s in RequestState if s.open]
        async with self._store() as store:
            open_ = await store.find(RequestFilter(states=states, limit=1_000_000))
        at_risk: dict[RequestKind, int] = {}
        for kind in RequestKind:
            mine = [r for r in open_ if r.kind is kind]
            at_risk[kind] = sum(r.at_risk(now) for r in mine)
            OPEN.labels(kind.value).set(len(mine))
            AT_RISK.labels(kind.value).set(at_risk[kind])
            OVERDUE.labels(kind.value).set(sum(r.due_at(now) < now for r in mine))
            earliest = min((r.due_at(now) for r in mine), default=None)
            DUE_SECONDS.labels(kind.value).set(
                (earliest - now).total_seconds() if earliest is not None else float("inf")
            )
        if any(at_risk.values()):
            log.warning("privacy.requests_at_risk", extra={k.value: v for k, v in at_risk.items()})
        return at_risk

    async def drop_expired_archives(self) -> int:
        """Archives of exports completed more than 30 days ago, deleted (idempotent)."""
        cutoff = self._clock() - ARCHIVES_KEPT
        where = RequestFilter(
            kinds=(RequestKind.EXPORT,), states=(RequestState.COMPLETED,), limit=1_000_000
        )
        async with self._store() as store:
            done = await store.find(where)
        dropped = 0
        for request in done:
            if _expired(request, cutoff) and await self._files.exists(archive_key(request.id)):
                await self._files.delete(archive_key(request.id))
                dropped += 1
        return dropped

    async def schedule_next(self) -> None:
        now = self._clock()
        hour = now.replace(minute=0, second=0, microsecond=0) + EVERY
        name = f"privacy-watch-{int(hour.timestamp())}"
        await self._scheduler.schedule(Task(WATCH_TASK, {}, hour, name=name))


def _expired(request: PrivacyRequest, cutoff: Any) -> bool:
    return request.finished_at is not None and request.finished_at < cutoff
