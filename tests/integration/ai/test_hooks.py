"""The AI hooks on the embedded default's path (outbox → relay → the `ai` consumer; the task
queue → the weekly job), on a real database: a focus session that ends earns a schedule
suggestion, announced with a silent push of kind `insight`; a redelivery or a second session
makes no second one, nor does a week a schedule covers already; the weekly walk makes one
insight per active person in named batches, and running it again makes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from app.bootstrap import Container, build
from app.settings import AuthMode, Environment, Settings
from domain.ai.budgets import AiFeature
from domain.ai.consent import ConsentEntry
from domain.blocklists.model import BlocklistDraft
from domain.blocklists.use_cases import create_blocklist
from domain.devices.model import DeviceRegistration, Platform
from domain.devices.use_cases import register_device
from domain.events import DomainEvent, EventType
from domain.focus_sessions.model import DayRange, Outcome, SessionEnd, SessionStart
from domain.focus_sessions.use_cases import end_focus_session, start_focus_session
from domain.push.model import PushKind, PushOutcome, PushResult, SilentPush
from domain.schedules.model import ScheduleDraft
from domain.schedules.use_cases import create_schedule
from domain.tasks import Task
from domain.users.model import ProfileChanges
from domain.users.use_cases import ensure_user, update_profile
from tests.support.clock import TestClock
from tests.support.insights import ECHO_TERMS, EchoHosted

pytestmark = pytest.mark.anyio
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A week no other test walks (a week is walked once: its steps are named tasks)."""


class Pushes:
    """A push service that accepts everything and remembers what it was sent."""

    def __init__(self) -> None:
        self.sent: list[SilentPush] = []

    async def send(self, push: SilentPush) -> PushResult:
        self.sent.append(push)
        return PushResult(PushOutcome.DELIVERED)

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def app(
    database_url: str, clock: TestClock, tmp_path: Path
) -> AsyncIterator[tuple[Container, Pushes]]:
    settings = Settings(env=Environment.TEST, auth=AuthMode.DEV, data_dir=tmp_path,
                        relay_in_process=False, task_worker_in_process=False)  # fmt: skip
    pushes = Pushes()
    container = build(settings, database_url, clock=clock,
                      senders={Platform.IOS: pushes, Platform.ANDROID: pushes})  # fmt: skip
    yield container, pushes
    await container.aclose()


async def person(container: Container, *, phone: bool = False, ai: bool = True) -> str:
    """Someone who turned AI features on in their profile (unless `ai` is False)."""
    uid = f"u-{uuid.uuid4().hex[:20]}"
    async with container.services.unit_of_work() as uow:
        await ensure_user(uow, uid)
        changes = ProfileChanges(consents={"ai_features": ai})
        await update_profile(
            uow, uid, changes, expected_version=None, clock=container.services.clock
        )
        await uow.commit()
    if phone:
        registration = DeviceRegistration(Platform.ANDROID, "4.2.0", push_token="a" * 140)
        async with container.services.unit_of_work() as uow:
            await register_device(uow, uid, "phone-0001", registration, expected_version=None,
                                  clock=container.services.clock)  # fmt: skip
            await uow.commit()
    return uid


async def focus(container: Container, clock: TestClock, uid: str, start: datetime,
                minutes: int = 60, outcome: Outcome = Outcome.COMPLETED) -> None:  # fmt: skip
    """A session the person's phone started at `start` and ended `minutes` later."""
    clock.set(start)
    async with container.services.unit_of_work() as uow:
        session, _ = await start_focus_session(
            uow, uid, SessionStart(planned_duration_minutes=minutes, timezone="UTC"), clock=clock
        )
        await uow.commit()
    clock.set(start + timedelta(minutes=minutes))
    async with container.services.unit_of_work() as uow:
        await end_focus_session(uow, uid, session.id, SessionEnd(outcome, clock()),
                                expected_version=None, clock=clock)  # fmt: skip
        await uow.commit()


async def mornings(container: Container, clock: TestClock, uid: str, days: int = 3) -> None:
    """A morning session on each of the first `days` days of the week, each delivered to the
    consumers as it ends."""
    for day in range(days):
        await focus(container, clock, uid, MONDAY + timedelta(days=day))
        await container.relay.drain()


async def results(container: Container, uid: str) -> list[tuple[str, str]]:
    async with container.services.unit_of_work() as uow:
        page = await uow.insights.list(uid, after=None, limit=100)
    return [(i.feature.value, i.period_start.isoformat()) for i in page]


async def test_a_session_that_ends_earns_a_suggestion_announced_by_a_push(
    app: tuple[Container, Pushes], clock: TestClock
) -> None:
    container, pushes = app
    uid = await person(container, phone=True)

    await mornings(container, clock, uid)
    await container.relay.drain()

    made = await results(container, uid)
    assert ("schedule_suggestion", "2026-03-04") in made
    async with container.services.unit_of_work() as uow:
        (suggestion,) = await uow.insights.list(uid, after=None, limit=10)
    assert suggestion.suggestion is not None
    assert (suggestion.suggestion.start_local.hour, suggestion.suggestion.end_local.hour) == (9, 11)
    kinds = [p.data["kind"] for p in pushes.sent if p.token == "a" * 140]
    assert PushKind.INSIGHT.value in kinds


async def test_the_same_suggestion_is_made_once_whatever_the_deliveries(
    app: tuple[Container, Pushes], clock: TestClock, database_url: str
) -> None:
    container, _ = app
    uid = await person(container)
    await mornings(container, clock, uid)
    await container.relay.drain()
    before = await results(container, uid)

    # Another session the same day, and every event of the person delivered again.
    await focus(container, clock, uid, MONDAY + timedelta(days=2, hours=1))
    await container.relay.drain()
    for event in await _ended_again(container, clock, uid):
        await container.ai.hooks.on_event(event)

    assert await results(container, uid) == before
    assert len([r for r in before if r[0] == "schedule_suggestion"]) == 1


async def test_many_deliveries_at_once_make_one_suggestion(
    app: tuple[Container, Pushes], clock: TestClock
) -> None:
    container, _ = app
    uid = await person(container, ai=True)
    for day in range(3):  # three sessions, none delivered yet
        await focus(container, clock, uid, MONDAY + timedelta(days=day))
    events = await _ended_again(container, clock, uid)

    await asyncio.gather(*(container.ai.hooks.on_event(e) for e in events * 4))

    assert [r[0] for r in await results(container, uid)] == ["schedule_suggestion"]


async def test_many_deliveries_at_once_make_one_suggestion_with_a_hosted_provider_too(
    database_url: str, clock: TestClock, tmp_path: Path
) -> None:
    settings = Settings(env=Environment.TEST, auth=AuthMode.DEV, data_dir=tmp_path,
                        relay_in_process=False, task_worker_in_process=False)  # fmt: skip
    hosted = EchoHosted()
    container = build(settings, database_url, clock=clock, hosted_ai=(hosted, ECHO_TERMS))
    try:
        uid = await person(container)
        grant = ConsentEntry(AiFeature.SCHEDULE_SUGGESTION, ECHO_TERMS.provider,
                             ECHO_TERMS.text_version, True, MONDAY)  # fmt: skip
        await container.ai.results.consents.record(uid, grant)
        for day in range(3):
            await focus(container, clock, uid, MONDAY + timedelta(days=day))
        events = await _ended_again(container, clock, uid)

        await asyncio.gather(*(container.ai.hooks.on_event(e) for e in events * 4))

        async with container.services.unit_of_work() as uow:
            made = await uow.insights.list(uid, after=None, limit=10)
        assert [(i.feature, i.provider) for i in made] == [
            (AiFeature.SCHEDULE_SUGGESTION, "echo-hosted")
        ]
        # Each day's cap (3) bounds the calls: sessions on three days. (Pub/Sub's ordering key,
        # the user id, delivers one person's events one at a time: this is the worst case.)
        assert 1 <= hosted.calls <= 9
    finally:
        await container.aclose()


async def test_no_suggestion_when_a_schedule_covers_the_best_hours(
    app: tuple[Container, Pushes], clock: TestClock
) -> None:
    container, _ = app
    uid = await person(container)
    async with container.services.unit_of_work() as uow:
        blocklist = await create_blocklist(uow, uid, BlocklistDraft("Social"), clock=clock)
        await create_schedule(uow, uid, ScheduleDraft(
            "Mornings", ["mon", "tue", "wed", "thu", "fri"], "08:00", "12:00", "UTC",
            blocklist.id,
        ), clock=clock)  # fmt: skip
        await uow.commit()

    await mornings(container, clock, uid)
    await container.relay.drain()

    assert await results(container, uid) == []


async def test_the_weekly_walk_makes_one_insight_per_active_person_in_batches(
    app: tuple[Container, Pushes], clock: TestClock, database_url: str
) -> None:
    container, _ = app
    container.ai.hooks.batch_size = 2
    active = [await person(container) for _ in range(5)]
    idle = await person(container)
    for uid in active:
        await focus(container, clock, uid, MONDAY)
    await container.relay.drain()
    clock.set(MONDAY + timedelta(days=7, hours=3))  # the next Monday, 12:00 UTC
    week = MONDAY.date()

    for _ in range(2):  # Scheduler's job fires twice: the second walk makes nothing new
        await container.task_queue.schedule(Task("ai.weekly", {}, clock()))
        while await container.task_worker.drain():
            pass

    for uid in active:
        assert ("weekly_insight", week.isoformat()) in await results(container, uid)
        weekly = [r for r in await results(container, uid) if r[0] == "weekly_insight"]
        assert len(weekly) == 1
    assert await results(container, idle) == []
    batches = _tasks_named(database_url, f"ai-weekly-{week:%Y%m%d}-")
    # Only this test's people are certain to be in the walk; others of the database may be too.
    assert batches >= 3


async def test_nothing_is_made_for_someone_with_ai_features_off(
    app: tuple[Container, Pushes], clock: TestClock
) -> None:
    container, _ = app
    uid = await person(container, ai=False)

    await mornings(container, clock, uid, days=4)  # each delivered to the ai consumer
    walked = await container.ai.hooks.audience.active_in_week(
        MONDAY.date(), after=None, limit=100_000
    )
    await container.ai.hooks.weekly_batch({"week": "2026-03-02", "uids": [uid]})

    assert uid not in walked
    assert await results(container, uid) == []


async def test_a_person_erased_before_their_batch_runs_is_skipped(
    app: tuple[Container, Pushes], clock: TestClock, database_url: str
) -> None:
    container, _ = app
    kept, erased = await person(container), await person(container)
    for uid in (kept, erased):
        await focus(container, clock, uid, MONDAY)
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM users WHERE uid = %s", (erased,))

    await container.ai.hooks.weekly_batch({"week": "2026-03-02", "uids": [erased, kept]})

    assert [r[0] for r in await results(container, kept)] == ["weekly_insight"]
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ai_insights WHERE user_id = %s", (erased,))
        assert row.fetchone() == (0,)


async def _ended_again(container: Container, clock: TestClock, uid: str) -> list[DomainEvent]:
    """The person's sessions' end events, as Pub/Sub would deliver them again (new ids: after
    the consumer's record of them is gone)."""
    async with container.services.unit_of_work() as uow:
        sessions = await uow.focus_sessions.list(uid, DayRange(), after=None, limit=100)
    return [
        DomainEvent(EventType.FOCUS_SESSION_COMPLETED, uid, str(s.id), s.version, clock())
        for s in sessions
    ]


def _tasks_named(database_url: str, prefix: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM scheduled_tasks WHERE name LIKE %s AND kind = 'ai.weekly_batch'",
            (prefix + "%",),
        ).fetchone()
    assert row is not None
    return int(row[0])
