"""What drives the AI features (ADR 0021): the `ai` consumer of the event topic and the weekly
job.

Only for people who turned AI features on in their profile (`consents.ai_features`); a
third-party provider also needs its own consent (domain/ai/consent.py).

- **Events:** a focus session that ended (completed or abandoned) may earn its person a
  schedule suggestion protecting the best focus window of that session's week (within the
  day's cap; none when a schedule covers the window already).
- **Weekly:** `ai.weekly` (Cloud Scheduler, Mondays 12:00 UTC, when every timezone's week has
  turned) walks the people who completed a focus session last week in uid order, a batch at a
  time: each run schedules one `ai.weekly_batch` task of up to `batch_size` uids and the next
  `ai.weekly` after the batch's last uid, both named, so a retried or doubled run schedules
  nothing twice. A batch makes each person's weekly insight (one a week, whatever the
  redeliveries).

Features are read in the handler's own unit of work; the provider is called outside any
transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol
from uuid import UUID

from prometheus_client import Counter, Histogram

from ai.insights import AiResults
from domain.ai.features import WeekFeatures, week_features
from domain.common import Clock
from domain.consumers import PoisonMessage
from domain.errors import AccountErased
from domain.events import DomainEvent, EventType
from domain.focus_sessions.model import DayRange, FocusSession, ListPosition
from domain.schedules.model import Schedule
from domain.tasks import Task, TaskScheduler
from domain.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

WEEKLY_TASK = "ai.weekly"
BATCH_TASK = "ai.weekly_batch"
SUGGESTING_EVENTS = frozenset(
    {EventType.FOCUS_SESSION_COMPLETED, EventType.FOCUS_SESSION_ABANDONED}
)
_PAGE = 200
_BATCH_CONCURRENCY = 4

MADE = Counter("focus_ai_results_made", "AI results stored, by feature", ["feature"])
LATENCY = Histogram(
    "focus_ai_event_to_result_seconds",
    "From an event's occurrence to its result being stored",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


class AiAudience(Protocol):
    async def active_in_week(self, week_start: date, *, after: str | None, limit: int) -> list[str]:
        """Up to `limit` uids, in order, strictly after `after`, of people with AI features
        on and a completed focus session on a local date of the week."""
        ...


async def wants_ai(uow: UnitOfWork, uid: str) -> bool:
    """Whether the person turned AI features on in their profile (`consents.ai_features`,
    off by default): without it nothing is made for them, by any provider."""
    profile = await uow.users.get(uid)
    return profile is not None and profile.consents.ai_features


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def features_of(uow: UnitOfWork, uid: str, week_start: date) -> WeekFeatures:
    """The person's features of the week, from their sessions and schedules."""
    days = DayRange(week_start, week_start + timedelta(days=6))
    sessions: list[FocusSession] = []
    after: ListPosition | None = None
    while True:
        page = await uow.focus_sessions.list(uid, days, after=after, limit=_PAGE)
        sessions.extend(page)
        if len(page) < _PAGE:
            break
        after = ListPosition(page[-1].started_at, page[-1].id)
    schedules: list[Schedule] = []
    last: UUID | None = None
    while True:
        found = await uow.schedules.list(uid, after=last, limit=_PAGE)
        schedules.extend(found)
        if len(found) < _PAGE:
            break
        last = found[-1].id
    return week_features(sessions, schedules, week_start)


@dataclass
class AiHooks:
    results: AiResults
    unit_of_work: UnitOfWorkFactory
    audience: AiAudience
    scheduler: TaskScheduler
    clock: Clock
    batch_size: int = 100

    async def on_event(self, event: DomainEvent) -> None:
        """The `ai` consumer: a schedule suggestion after a focus session ended."""
        if event.type not in SUGGESTING_EVENTS:
            return
        try:
            session_id = UUID(event.subject_id)
        except ValueError as error:
            raise PoisonMessage(f"{event.type} names no session") from error
        uid, results = event.user_id, self.results
        async with self.unit_of_work() as uow:
            session = await uow.focus_sessions.get(uid, session_id)
            if session is None or not await wants_ai(uow, uid):
                return  # deleted since, the person erased, or AI features off
            if results.writes_locally:
                # Held to the commit: another delivery for the person waits, then sees this
                # one's suggestion (one unanswered suggestion at a time).
                await uow.lock_user(uid)
            features = await features_of(uow, uid, week_of(session.local_date))
            day = session.local_date
            candidate = await results.suggestion_to_make(uow, uid, features, day)
            if candidate is None:
                return
            if results.writes_locally:  # one transaction: the cap, the result, its event
                made = await results.local_suggestion(uow, uid, day, candidate)
                await uow.commit()
        if not results.writes_locally:  # the provider is called outside any transaction
            made = await results.schedule_suggestion(uid, features, day, checked=True)
        if made is not None and made.created_at >= event.occurred_at:
            MADE.labels(made.feature.value).inc()
            LATENCY.observe((made.created_at - event.occurred_at).total_seconds())

    async def weekly(self, payload: Mapping[str, Any]) -> None:
        """One step of the weekly walk: a batch of people, and the next step."""
        week = (
            date.fromisoformat(payload["week"])
            if "week" in payload
            else week_of(self.clock().date()) - timedelta(days=7)
        )
        after = payload.get("after")
        uids = await self.audience.active_in_week(week, after=after, limit=self.batch_size)
        if not uids:
            log.info("ai.weekly_done", extra={"week": week.isoformat()})
            return
        now = self.clock()
        step = _step_name(week, after)
        await self.scheduler.schedule(
            Task(BATCH_TASK, {"week": week.isoformat(), "uids": uids}, now, name=f"{step}-b")
        )
        if len(uids) == self.batch_size:
            following = {"week": week.isoformat(), "after": uids[-1]}
            await self.scheduler.schedule(
                Task(WEEKLY_TASK, following, now, name=_step_name(week, uids[-1]))
            )

    async def weekly_batch(self, payload: Mapping[str, Any]) -> None:
        """Each person's weekly insight; a failure fails the batch, whose retry skips the
        people already done (their insight is stored)."""
        week = date.fromisoformat(payload["week"])
        gate = asyncio.Semaphore(_BATCH_CONCURRENCY)

        async def one(uid: str) -> None:
            async with gate:
                async with self.unit_of_work() as uow:
                    if not await wants_ai(uow, uid):
                        return  # turned AI features off since the batch was made
                    features = await features_of(uow, uid, week)
                try:
                    made = await self.results.weekly_insight(uid, features)
                except AccountErased:
                    return  # erased since the batch was made: nothing of theirs is written
                if made is not None:
                    MADE.labels(made.feature.value).inc()

        await asyncio.gather(*(one(uid) for uid in payload["uids"]))


def _step_name(week: date, after: str | None) -> str:
    """`ai-weekly-<week>-<hash of the position>`: uids may hold any character, names may not."""
    position = hashlib.sha256((after or "").encode()).hexdigest()[:24]
    return f"ai-weekly-{week:%Y%m%d}-{position}"
