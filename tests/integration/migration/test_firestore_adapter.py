"""The Firestore repositories keep the same ports as the Postgres ones: one scenario, both
stores, equal domain objects (docs/migration/legacy-firestore.md, "Written by the backend")."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.blocklists.ports import BlocklistRepository
from domain.devices.ports import DeviceRepository
from domain.focus_sessions.model import DayRange, ListPosition
from domain.focus_sessions.ports import FocusSessionRepository
from domain.schedules.ports import ScheduleRepository
from domain.usage.ports import UsageReportRepository
from domain.users.ports import UserRepository
from migration.firestore.store import FirestoreStore
from tests.support import entities
from tests.support.firestore_emulator import FirestoreEmulator

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


class Repositories(Protocol):
    users: UserRepository
    devices: DeviceRepository
    blocklists: BlocklistRepository
    schedules: ScheduleRepository
    focus_sessions: FocusSessionRepository
    usage: UsageReportRepository


async def scenario(repos: Repositories, uid: str) -> dict[str, Any]:
    """Everything a use case does with each port, and what each read gave back."""
    seen: dict[str, Any] = {}
    ids = [uuid.UUID(f"0195f0a0-0000-7000-8000-{n:012x}") for n in range(1, 9)]
    await repos.users.ensure(uid)
    await repos.users.save(entities.user(uid))
    user = await repos.users.get(uid)
    # `ensure` stamps the row with its store's clock (Postgres: the server's now()).
    seen["user"] = user and replace(user, created_at=entities.AT)

    other = "B" * 22
    for installation in (entities.INSTALLATION, other):
        await repos.devices.save(entities.device(uid, installation))
    seen["device"] = await repos.devices.get(uid, entities.INSTALLATION)
    await repos.devices.delete(uid, other, version=7)
    seen["devices"] = (await repos.devices.list(uid), await repos.devices.count(uid))
    seen["deleted device"] = await repos.devices.get(uid, other)
    token = entities.device(uid, other).push_token
    assert token is not None
    holders = await repos.devices.holding([token, "no-such-token"])
    seen["token holders"] = sorted(d.installation_id for d in holders if d.user_id == uid)

    first_list, second_list, gone_list = ids[0], ids[1], ids[2]
    for blocklist_id in (first_list, second_list, gone_list):
        await repos.blocklists.save(entities.blocklist(uid, blocklist_id))
    await repos.blocklists.delete(uid, gone_list, 8, NOW)
    seen["blocklist"] = await repos.blocklists.get(uid, first_list)
    seen["deleted blocklist"] = await repos.blocklists.get(uid, gone_list)
    seen["blocklist pages"] = (
        await repos.blocklists.list(uid, after=None, limit=1),
        await repos.blocklists.list(uid, after=first_list, limit=5),
        await repos.blocklists.count(uid),
    )

    for schedule_id in (ids[3], ids[4]):
        await repos.schedules.save(entities.schedule(uid, schedule_id, first_list))
    await repos.schedules.delete(uid, ids[4], 9, NOW)
    seen["schedules"] = (
        await repos.schedules.get(uid, ids[3]),
        await repos.schedules.get(uid, ids[4]),
        await repos.schedules.list(uid, after=None, limit=10),
        await repos.schedules.count(uid),
        await repos.schedules.count_using_blocklist(uid, first_list),
    )

    hour = dt.timedelta(hours=1)
    done = entities.session(uid, ids[5], first_list, entities.AT)
    later = entities.session(uid, ids[6], None, entities.AT + 26 * hour)
    running = entities.session(uid, ids[7], None, entities.AT + 50 * hour, running=True)
    for session in (done, later, running):
        await repos.focus_sessions.add(session)
    seen["running"] = await repos.focus_sessions.running(uid)
    await repos.focus_sessions.save(entities.session(uid, ids[7], None, running.started_at))
    seen["ended"] = await repos.focus_sessions.get(uid, ids[7])
    everything, one_day = DayRange(), DayRange(done.local_date, done.local_date)
    page = await repos.focus_sessions.list(uid, everything, after=None, limit=2)
    position = ListPosition(page[-1].started_at, page[-1].id)
    seen["session pages"] = (
        page,
        await repos.focus_sessions.list(uid, everything, after=position, limit=2),
        await repos.focus_sessions.list(uid, one_day, after=None, limit=5),
    )
    seen["totals"] = (
        await repos.focus_sessions.daily_totals(uid, done.local_date, running.local_date),
        await repos.focus_sessions.days_meeting_goal(uid, 25 * 60),
    )

    days = [dt.date(2025, 11, d) for d in (1, 2, 3)]
    for day in days:
        await repos.usage.save(entities.usage_report(uid, day))
    await repos.usage.save(entities.usage_report(uid, days[1], other))
    first_page = await repos.usage.list(uid, days[0], days[2], after=None, limit=2)
    cursor = (first_page[-1].date, first_page[-1].installation_id)
    seen["usage"] = (
        await repos.usage.get(uid, entities.INSTALLATION, days[0]),
        first_page,
        await repos.usage.list(uid, days[0], days[2], after=cursor, limit=5),
        await repos.usage.list(uid, days[1], days[1], after=None, limit=5),
    )
    return seen


@pytest.fixture
async def store(firestore_emulator: FirestoreEmulator) -> AsyncIterator[FirestoreStore]:
    client = firestore_emulator.async_client()
    yield FirestoreStore(client, clock=lambda: NOW)
    client.close()


async def test_the_firestore_and_postgres_repositories_give_the_same_records(
    store: FirestoreStore, engine: AsyncEngine
) -> None:
    uid = uuid.uuid4().hex[:28]

    in_firestore = await scenario(store, uid)
    async with PostgresUnitOfWork(engine) as uow:
        in_postgres = await scenario(uow, uid)

    assert store.skipped == {}
    assert in_firestore["deleted blocklist"] is None
    assert in_firestore["devices"][1] == 1
    for key, value in in_postgres.items():
        assert in_firestore[key] == value, key


async def test_a_deletion_keeps_the_document_as_a_tombstone(
    store: FirestoreStore, firestore_emulator: FirestoreEmulator
) -> None:
    uid = uuid.uuid4().hex[:28]
    blocklist_id = uuid.UUID("0195f0a0-0000-7000-8000-0000000000aa")
    await store.blocklists.save(entities.blocklist(uid, blocklist_id))
    await store.blocklists.delete(uid, blocklist_id, 11, NOW)

    raw = firestore_emulator.client().document(f"users/{uid}/blocklists/{blocklist_id}").get()
    assert raw.get("deletedAt") == NOW
    assert (raw.get("_v"), raw.get("_writer")) == (11, "backend")
    assert await store.blocklists.get(uid, blocklist_id) is None

    await store.blocklists.save(entities.blocklist(uid, blocklist_id, version=12))
    assert await store.blocklists.get(uid, blocklist_id) == entities.blocklist(
        uid, blocklist_id, version=12
    )


async def test_saving_a_legacy_record_writes_its_own_document_and_keeps_unknown_fields(
    store: FirestoreStore, firestore_emulator: FirestoreEmulator
) -> None:
    uid = uuid.uuid4().hex[:28]
    sync = firestore_emulator.client()
    legacy = sync.document(f"users/{uid}/blocklists/dOnprj2fHgqfR9WVfTmo")
    legacy.set({"name": "Old", "apps": [], "abBucket": 7})
    (found,) = await store.blocklists.list(uid, after=None, limit=5)
    assert found.version == 0

    await store.blocklists.save(entities.blocklist(uid, found.id, version=3))

    documents = list(sync.collection(f"users/{uid}/blocklists").stream())
    assert [d.id for d in documents] == ["dOnprj2fHgqfR9WVfTmo"]
    assert documents[0].get("abBucket") == 7
    assert await store.blocklists.get(uid, found.id) == entities.blocklist(uid, found.id, 3)
