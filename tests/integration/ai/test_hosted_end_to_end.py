"""The hosted provider (Gemini on Vertex AI, a loopback fake answering as Google does) behind
the whole path: many people with distinctive names, blocklists, apps, websites and schedule
names go through the `ai` consumer and the weekly walk. The provider is asked only for those
who agreed to its current text, and no request it receives holds anything personal: no uid,
name, domain, app token, schedule or blocklist name, installation id or timezone. When it
fails, people still get their results, written by the local provider."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ai.terms import VERTEX_TERMS
from ai.vertex import VertexInsightProvider
from app.bootstrap import Container, build
from app.settings import AuthMode, Environment, Settings
from domain.ai.budgets import AiFeature
from domain.ai.consent import ConsentEntry
from domain.blocklists.model import BlockItem, BlocklistDraft, ItemKind
from domain.blocklists.use_cases import create_blocklist
from domain.devices.model import DeviceRegistration, Platform
from domain.devices.use_cases import register_device
from domain.focus_sessions.model import Outcome, SessionEnd, SessionStart
from domain.focus_sessions.use_cases import end_focus_session, start_focus_session
from domain.schedules.model import ScheduleDraft
from domain.schedules.use_cases import create_schedule
from domain.tasks import Task
from domain.users.model import ProfileChanges
from domain.users.use_cases import ensure_user, update_profile
from tests.support.clock import TestClock
from tests.support.fake_vertex import Failure, FakeVertex

pytestmark = pytest.mark.anyio
MONDAY = datetime(2026, 4, 6, 7, 0, tzinfo=UTC)
"""A week no other test walks (a week is walked once: its steps are named tasks)."""
PEOPLE = 12


@pytest.fixture
async def app(
    database_url: str, clock: TestClock, tmp_path: Path, fake_vertex: FakeVertex
) -> AsyncIterator[Container]:
    settings = Settings(env=Environment.TEST, auth=AuthMode.DEV, data_dir=tmp_path,
                        relay_in_process=False, task_worker_in_process=False)  # fmt: skip
    vertex = VertexInsightProvider(
        fake_vertex.config(timeout_seconds=5.0, backoff_seconds=0.01),
        credentials=fake_vertex.credentials(),
    )
    container = build(settings, database_url, clock=clock, hosted_ai=(vertex, VERTEX_TERMS))
    yield container
    await container.aclose()


async def someone(
    container: Container, clock: TestClock, n: int, *, consents: bool, monday: datetime = MONDAY
) -> list[str]:
    """A person with a week of evening focus and things only they have; what is theirs."""
    uid = f"u-{uuid.uuid4().hex[:20]}"
    mine = [
        uid, f"Quillon{n}Vasquez", f"zanzibar{n}-chat.example", f"com.secretapp{n}.messenger",
        f"Hideaway{n}Lists", f"Midnight{n}Shield", f"install-{uuid.uuid4().hex[:12]}",
    ]  # fmt: skip
    async with container.services.unit_of_work() as uow:
        await ensure_user(uow, uid)
        profile = ProfileChanges({"display_name": mine[1], "timezone": "America/St_Johns"},
                                 consents={"ai_features": True})  # fmt: skip
        await update_profile(uow, uid, profile, expected_version=None, clock=clock)
        items = [
            BlockItem(ItemKind.WEB_DOMAIN, mine[2]),
            BlockItem(ItemKind.ANDROID_PACKAGE, mine[3]),
        ]
        blocklist = await create_blocklist(uow, uid, BlocklistDraft(mine[4], items), clock=clock)
        await create_schedule(uow, uid, ScheduleDraft(mine[5], ["sat"], "06:00", "07:00",
                              "America/St_Johns", blocklist.id), clock=clock)  # fmt: skip
        registration = DeviceRegistration(Platform.ANDROID, "4.2.0", push_token="p" * 120)
        await register_device(uow, uid, mine[6], registration, expected_version=None, clock=clock)
        await uow.commit()
    if consents:
        for feature in AiFeature:
            entry = ConsentEntry(feature, VERTEX_TERMS.provider, VERTEX_TERMS.text_version, True,
                                 clock())  # fmt: skip
            await container.ai.results.consents.record(uid, entry)
    for day in range(4):
        start = monday + timedelta(days=day, hours=12 + n % 5)
        clock.set(start)
        async with container.services.unit_of_work() as uow:
            session, _ = await start_focus_session(
                uow, uid, SessionStart(planned_duration_minutes=50, blocklist_id=blocklist.id),
                clock=clock,
            )  # fmt: skip
            await uow.commit()
        clock.set(start + timedelta(minutes=50))
        async with container.services.unit_of_work() as uow:
            end = SessionEnd(Outcome.COMPLETED, clock())
            await end_focus_session(uow, uid, session.id, end, expected_version=None, clock=clock)
            await uow.commit()
        await container.relay.drain()
    return mine


async def walk_the_week(container: Container, clock: TestClock, monday: datetime = MONDAY) -> None:
    """Scheduler's job on the next Monday. A week is walked once (its steps are named): each
    test walks a week of its own."""
    clock.set(monday + timedelta(days=7, hours=5))
    await container.task_queue.schedule(Task("ai.weekly", {}, clock()))
    while await container.task_worker.drain():
        pass


async def written_by(container: Container, uid: str) -> dict[str, str]:
    async with container.services.unit_of_work() as uow:
        found = await uow.insights.list(uid, after=None, limit=10)
    return {i.feature.value: i.provider for i in found}


async def test_only_consenting_people_reach_the_provider_and_nothing_personal_does(
    app: Container, clock: TestClock, fake_vertex: FakeVertex
) -> None:
    people = [await someone(app, clock, n, consents=n % 2 == 0) for n in range(PEOPLE)]
    await walk_the_week(app, clock)

    for n, mine in enumerate(people):
        expected = "vertex-gemini" if n % 2 == 0 else "local"
        assert await written_by(app, mine[0]) == {
            "schedule_suggestion": expected, "weekly_insight": expected,
        }, mine[0]  # fmt: skip
    requests = fake_vertex.requests
    assert len(requests) == PEOPLE  # one suggestion and one insight per consenting person
    sent = "\n".join(str(r.body) + r.path + str(dict(r.headers)) for r in requests).lower()
    leaked = {s for mine in people for s in mine if s.lower() in sent}
    assert leaked == set()
    assert "st_johns" not in sent
    assert "america" not in sent


async def test_when_the_provider_is_down_the_local_provider_writes(
    app: Container, clock: TestClock, fake_vertex: FakeVertex
) -> None:
    fake_vertex.fail_next(Failure(503, "UNAVAILABLE", "The service is currently unavailable."),
                          count=1000)  # fmt: skip
    monday = MONDAY + timedelta(days=21)
    mine = await someone(app, clock, 1, consents=True, monday=monday)
    await walk_the_week(app, clock, monday)

    assert await written_by(app, mine[0]) == {"schedule_suggestion": "local",
                                              "weekly_insight": "local"}  # fmt: skip
    assert fake_vertex.requests  # it was asked, and retried
