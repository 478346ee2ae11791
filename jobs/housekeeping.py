"""The recurring purge: a task that runs hourly and schedules its next run itself.

Its name is the hour it runs in, so however many processes start it or retry it, one runs
per hour. In production Cloud Scheduler may call it as well (terraform): the same handler.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from domain.common import Clock
from domain.housekeeping import Housekeeping, Retention
from domain.tasks import Task, TaskScheduler

log = logging.getLogger("events.maintenance")

PURGE_TASK = "maintenance.purge"
EVERY = timedelta(hours=1)


class Maintenance:
    def __init__(
        self,
        housekeeping: Housekeeping,
        scheduler: TaskScheduler,
        *,
        clock: Clock,
        retention: Retention | None = None,
    ) -> None:
        self._housekeeping = housekeeping
        self._scheduler = scheduler
        self._clock = clock
        self._retention = retention or Retention()

    async def purge(self, payload: Mapping[str, Any]) -> None:
        purged = await self._housekeeping.purge(self._clock(), self._retention)
        log.info("maintenance.purged", extra=dict(purged))
        await self.schedule_next()

    async def schedule_next(self) -> None:
        now = self._clock()
        hour = now.replace(minute=0, second=0, microsecond=0) + EVERY
        name = f"maintenance-purge-{int(hour.timestamp())}"
        await self._scheduler.schedule(Task(PURGE_TASK, {}, hour, name=name))
