"""Legacy sync: changes old app versions make in Firestore, pushed as Pub/Sub would push them to
`/internal/pubsub/legacy-sync`, land in Postgres as the API's own writes do (a new version, the
same outbox event) or are dropped by the rules of ADR 0012. Real PostgreSQL; the messages are
encoded as `functions/` encodes them (one test writes the documents in the Firestore emulator)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import psycopg
import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from api.app import create_app
from app.bootstrap import Container
from datastore.postgres.consumer_log import PostgresFailedMessages
from datastore.postgres.engine import create_engine
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.blocklists.model import BlockItem, Blocklist, ItemKind
from domain.common import new_id, utc_now
from domain.migration import Entity, Phase
from functions.legacy_change import LegacyChange, Reference
from migration.firestore.layout import BLOCKLISTS, SCHEDULES, SESSIONS, record_id
from migration.firestore.mapping import blocklists as blocklist_mapping
from migration.firestore.mirrors import FirestoreMirrorWriter
from migration.firestore.store import FirestoreStore
from migration.legacy_sync import SUBSCRIPTION, LegacySync
from migration.legacy_sync.rules import Owed
from migration.mirroring import Mirroring
from migration.postgres.legacy_sync import PostgresLegacySyncUnitOfWork
from migration.postgres.pending_mirrors import PostgresMirrorQueue
from tests.integration.migration.old_app import encoded, legacy_sync_push
from tests.support.firestore_emulator import FirestoreEmulator

T = TypeVar("T")
Document = dict[str, Any]


@dataclass
class Legacy:
    """A legacy app's user, the sync's endpoint, and what the user would see in Postgres."""

    client: TestClient
    engine: Any
    phases: dict[Entity, Phase]
    database_url: str
    uid: str

    def push(self, change: LegacyChange, *, attempt: int | None = None) -> int:
        return self.push_data(encoded(change), change, attempt)

    def push_data(
        self, data: bytes, change: LegacyChange | None = None, attempt: int | None = None
    ) -> int:
        body = legacy_sync_push(data, change.attributes if change else {}, attempt=attempt)
        return self.client.post("/internal/pubsub/legacy-sync", json=body).status_code

    def read(self, read: Callable[[PostgresUnitOfWork], Awaitable[T]]) -> T:
        async def run() -> T:
            async with PostgresUnitOfWork(self.engine) as uow:
                return await read(uow)

        return self.client.portal.call(run)  # type: ignore[union-attr]

    def blocklist(self, doc_id: str) -> Blocklist | None:
        return self.read(lambda uow: uow.blocklists.get(self.uid, blocklist_id(self, doc_id)))

    def events(self) -> list[tuple[str, str, int, str | None]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT type, subject_id, record_version, origin_installation_id"
                " FROM outbox_events WHERE user_id = %s ORDER BY id",
                (self.uid,),
            ).fetchall()
        return [(str(t), str(s), int(str(v)), o if o is None else str(o)) for t, s, v, o in rows]

    def sql(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def legacy(
    container: Container, database_url: str, firestore_emulator: FirestoreEmulator
) -> Iterator[Legacy]:
    engine = create_engine(database_url, pool_size=2)
    phases = dict.fromkeys(Entity, Phase.DUAL_WRITE_READ_FIRESTORE)
    firestore = firestore_emulator.async_client()
    documents = FirestoreStore(firestore).documents
    mirroring = Mirroring(PostgresMirrorQueue(engine), FirestoreMirrorWriter(firestore, documents))
    sync = LegacySync(
        lambda: PostgresLegacySyncUnitOfWork(engine),
        lambda: phases,
        PostgresFailedMessages(engine),
        clock=utc_now,
        owed=Owed(firestore),
        mirroring=mirroring,
        max_attempts=10,
    )
    app = create_app(replace(container.services, legacy_sync=sync))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Legacy(client, engine, phases, database_url, f"L{uuid.uuid4().hex[:27]}")
        client.portal.call(engine.dispose)  # type: ignore[union-attr]


# --- building messages as functions/ does ---------------------------------------------------

_clock = [utc_now() - dt.timedelta(minutes=1)]


def tick() -> dt.datetime:
    """Firestore's update_time: per document it only grows."""
    _clock[0] += dt.timedelta(microseconds=1500)
    return _clock[0]


def change(
    uid: str,
    collection: str,
    doc_id: str,
    before: Document | None,
    after: Document | None,
    at: dt.datetime | None = None,
) -> LegacyChange:
    path = f"users/{uid}" if collection == "users" else f"users/{uid}/{collection}/{doc_id}"
    return LegacyChange.of(
        path=path,
        before=before,
        after=after,
        update_time=at or tick(),
        create_time=_clock[0] - dt.timedelta(seconds=30),
        event_id=str(uuid.uuid4()),
    )


def auto_id() -> str:
    return uuid.uuid4().hex[:20]


def blocklist_id(legacy: Legacy, doc_id: str) -> uuid.UUID:
    return record_id(legacy.uid, BLOCKLISTS, doc_id)


def blocklist_doc(name: str = "Social") -> Document:
    now = utc_now()
    return {
        "name": name,
        "apps": ["com.instagram.android"],
        "sites": ["reddit.com"],
        "categories": ["social"],
        "createdAt": now - dt.timedelta(seconds=20),
        "updatedAt": now - dt.timedelta(seconds=10),
    }


def counted(entity: Entity, outcome: str) -> float:
    labels = {"entity": entity.value, "outcome": outcome}
    return REGISTRY.get_sample_value("focus_migration_legacy_changes_total", labels) or 0.0


# --- each entity ------------------------------------------------------------------------------


def test_a_legacy_blocklist_is_created_updated_and_deleted_in_postgres(legacy: Legacy) -> None:
    doc_id, created, renamed = auto_id(), blocklist_doc("Social"), blocklist_doc("Evenings")
    subject = str(blocklist_id(legacy, doc_id))

    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, None, created)) == 204
    first = legacy.blocklist(doc_id)
    assert first is not None
    assert first.name == "Social"
    assert first.version > 0
    assert {item.kind for item in first.items} == {
        ItemKind.ANDROID_PACKAGE,
        ItemKind.WEB_DOMAIN,
        ItemKind.CATEGORY,
    }

    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, created, renamed)) == 204
    second = legacy.blocklist(doc_id)
    assert second is not None
    assert second.name == "Evenings"
    assert second.version > first.version

    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, renamed, None)) == 204
    assert legacy.blocklist(doc_id) is None
    (deleted_version,) = legacy.sql(
        "SELECT version FROM blocklists WHERE user_id = %s AND deleted_at IS NOT NULL", legacy.uid
    )[0]
    assert deleted_version > second.version

    assert legacy.events() == [
        ("blocklist.created", subject, first.version, None),
        ("blocklist.updated", subject, second.version, None),
        ("blocklist.deleted", subject, deleted_version, None),
    ]


def test_a_user_first_known_from_an_old_apps_profile_was_created_when_it_says(
    legacy: Legacy,
) -> None:
    created = (utc_now() - dt.timedelta(days=2)).replace(microsecond=0)
    profile = {"timezone": "Europe/Paris", "createdAt": created, "updatedAt": created}

    assert legacy.push(change(legacy.uid, "users", legacy.uid, None, profile)) == 204

    assert legacy.sql("SELECT created_at FROM users WHERE uid = %s", legacy.uid) == [(created,)]


def test_a_legacy_profile_device_and_usage_report_land_with_their_events(legacy: Legacy) -> None:
    uid, installation = legacy.uid, str(uuid.uuid4()).upper()
    day = utc_now().date()
    profile = {"displayName": " Ada ", "timezone": "Europe/Paris", "dailyGoalMinutes": "90"}
    device = {"platform": "iOS", "appVersion": "3.1.0", "timezone": "Europe/Paris"}
    report = {"totalMinutes": 120, "pickups": 40, "categories": {"social": 60}}

    assert legacy.push(change(uid, "users", uid, None, profile)) == 204
    assert legacy.push(change(uid, "devices", installation, None, device)) == 204
    assert legacy.push(change(uid, "usage", f"{day}_{installation}", None, report)) == 204
    assert legacy.push(change(uid, "devices", installation, device, None)) == 204

    user = legacy.read(lambda uow: uow.users.get(uid))
    assert user is not None
    assert (user.display_name, user.timezone, user.daily_goal_minutes) == (
        "Ada",
        "Europe/Paris",
        90,
    )
    usage = legacy.read(lambda uow: uow.usage.get(uid, installation, day))
    assert usage is not None
    assert (usage.total_minutes, usage.pickups) == (120, 40)
    assert legacy.read(lambda uow: uow.devices.get(uid, installation)) is None  # removed
    types = [(kind, subject) for kind, subject, _, _ in legacy.events()]
    assert types == [
        ("profile.updated", uid),
        ("device.registered", installation),
        ("usage.reported", f"{day}/{installation}"),
        ("device.removed", installation),
    ]
    versions = [version for _, _, version, _ in legacy.events()]
    assert versions == sorted(set(versions))
    assert user.version == versions[0]
    assert usage.version == versions[2]


def test_a_legacy_schedule_and_focus_session_land_with_their_events(legacy: Legacy) -> None:
    uid, list_doc, schedule_doc, session_doc = legacy.uid, auto_id(), auto_id(), auto_id()
    link = Reference(f"users/{uid}/blocklists/{list_doc}")
    schedule = {"days": [1, 2, 3], "startTime": "09:00", "endTime": "17:00", "blocklist": link}
    started = utc_now() - dt.timedelta(minutes=30)
    running = {"startedAt": started, "plannedMinutes": 25, "status": "running", "blocklist": link}
    ended = {**running, "status": "completed", "endedAt": started + dt.timedelta(minutes=25)}

    legacy.push(change(uid, BLOCKLISTS, list_doc, None, blocklist_doc()))
    assert legacy.push(change(uid, SCHEDULES, schedule_doc, None, schedule)) == 204
    assert legacy.push(change(uid, SESSIONS, session_doc, None, running)) == 204
    assert legacy.push(change(uid, SESSIONS, session_doc, running, ended)) == 204
    assert legacy.push(change(uid, SCHEDULES, schedule_doc, schedule, None)) == 204

    session_id = record_id(uid, SESSIONS, session_doc)
    session = legacy.read(lambda uow: uow.focus_sessions.get(uid, session_id))
    assert session is not None
    assert session.outcome is not None
    assert session.outcome.value == "completed"
    assert session.blocklist_id == blocklist_id(legacy, list_doc)
    schedule_id = record_id(uid, SCHEDULES, schedule_doc)
    assert legacy.read(lambda uow: uow.schedules.get(uid, schedule_id)) is None
    assert [kind for kind, _, _, _ in legacy.events()] == [
        "blocklist.created",
        "schedule.created",
        "focus_session.started",
        "focus_session.completed",
        "schedule.deleted",
    ]


# --- duplicates and order ---------------------------------------------------------------------


def test_a_duplicate_message_is_applied_once(legacy: Legacy) -> None:
    created = change(legacy.uid, BLOCKLISTS, doc_id := auto_id(), None, blocklist_doc())
    stale_before = counted(Entity.BLOCKLISTS, "stale")

    assert legacy.push(created) == 204
    assert legacy.push(created) == 204

    assert len(legacy.events()) == 1
    assert legacy.blocklist(doc_id) is not None
    assert counted(Entity.BLOCKLISTS, "stale") == stale_before + 1


def test_an_older_change_arriving_after_a_newer_one_is_dropped(legacy: Legacy) -> None:
    doc_id, first, second = auto_id(), blocklist_doc("First"), blocklist_doc("Second")
    older = change(legacy.uid, BLOCKLISTS, doc_id, None, first)
    newer = change(legacy.uid, BLOCKLISTS, doc_id, first, second)

    assert legacy.push(newer) == 204
    assert legacy.push(older) == 204

    found = legacy.blocklist(doc_id)
    assert found is not None
    assert found.name == "Second"
    assert len(legacy.events()) == 1


# --- our own mirrors, and legacy edits of them ------------------------------------------------


def api_write(legacy: Legacy, name: str, existing: Blocklist | None = None) -> Blocklist:
    """What an API write leaves in Postgres (a version from the user's counter)."""

    async def write(uow: PostgresUnitOfWork) -> Blocklist:
        version = await uow.next_version(legacy.uid)
        now = utc_now()
        blocklist = Blocklist(
            id=existing.id if existing else new_id(),
            user_id=legacy.uid,
            name=name,
            items=(BlockItem(ItemKind.WEB_DOMAIN, "news.example"),),
            version=version,
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        await uow.blocklists.save(blocklist)
        await uow.commit()
        return blocklist

    return legacy.read(write)


def test_our_own_mirror_coming_back_is_ignored(legacy: Legacy) -> None:
    written = api_write(legacy, "Mornings")
    mirror = blocklist_mapping.to_document(written)
    own_before = counted(Entity.BLOCKLISTS, "own_mirror")

    assert legacy.push(change(legacy.uid, BLOCKLISTS, str(written.id), None, mirror)) == 204

    assert legacy.blocklist(str(written.id)) == written
    assert legacy.events() == []
    assert counted(Entity.BLOCKLISTS, "own_mirror") == own_before + 1


def test_a_legacy_update_that_keeps_our_markers_but_changes_content_is_applied(
    legacy: Legacy,
) -> None:
    written = api_write(legacy, "Mornings")
    mirror = blocklist_mapping.to_document(written)
    edited = {**mirror, "name": "Mornings and evenings"}  # an `update`: _v, _writer stay
    doc_id = str(written.id)

    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, None, mirror)) == 204
    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, mirror, edited)) == 204

    found = legacy.blocklist(doc_id)
    assert found is not None
    assert found.name == "Mornings and evenings"
    assert found.version > written.version
    assert legacy.events() == [("blocklist.updated", doc_id, found.version, None)]


def test_a_legacy_edit_racing_a_newer_api_write_loses(legacy: Legacy) -> None:
    read_by_app = api_write(legacy, "Version N")
    won = api_write(legacy, "Version N+1", existing=read_by_app)  # the app has not seen it
    seen = blocklist_mapping.to_document(read_by_app)
    edited = {**seen, "name": "Legacy edit of N"}
    lost_before = counted(Entity.BLOCKLISTS, "lost_race")

    assert legacy.push(change(legacy.uid, BLOCKLISTS, str(won.id), seen, edited)) == 204

    assert legacy.blocklist(str(won.id)) == won
    assert legacy.events() == []
    assert counted(Entity.BLOCKLISTS, "lost_race") == lost_before + 1


# --- dropped on purpose, kept, retried --------------------------------------------------------


def test_nothing_of_an_erased_user_is_written(legacy: Legacy) -> None:
    legacy.sql("INSERT INTO erased_users (uid, erased_at) VALUES (%s, now())", legacy.uid)

    assert legacy.push(change(legacy.uid, BLOCKLISTS, auto_id(), None, blocklist_doc())) == 204

    assert legacy.sql("SELECT 1 FROM users WHERE uid = %s", legacy.uid) == []
    assert legacy.sql("SELECT 1 FROM legacy_sync_positions WHERE user_id = %s", legacy.uid) == []


def test_a_change_of_an_entity_still_firestore_only_is_left_to_the_backfill(
    legacy: Legacy,
) -> None:
    legacy.phases[Entity.BLOCKLISTS] = Phase.FIRESTORE_ONLY
    doc_id = auto_id()

    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, None, blocklist_doc())) == 204

    assert legacy.sql("SELECT 1 FROM users WHERE uid = %s", legacy.uid) == []
    assert legacy.events() == []


def test_an_unmappable_document_is_acknowledged_kept_and_counted(legacy: Legacy) -> None:
    broken = {"startTime": "09:00", "endTime": "17:00", "blocklist": "x"}  # no days
    unmappable = change(legacy.uid, SCHEDULES, auto_id(), None, broken)
    labels = {"entity": "schedules", "reason": "missing_required"}
    before = REGISTRY.get_sample_value("focus_migration_legacy_unmappable_total", labels) or 0.0

    assert legacy.push(unmappable) == 204

    assert legacy.sql("SELECT 1 FROM schedules WHERE user_id = %s", legacy.uid) == []
    assert legacy.events() == []
    kept = legacy.sql(
        "SELECT error, data FROM failed_messages WHERE subscription = %s AND event_id = %s",
        SUBSCRIPTION,
        unmappable.event_id,
    )
    assert len(kept) == 1
    assert kept[0][0] == "unmappable: missing_required (days)"
    assert b"09:00" not in bytes(kept[0][1])  # a pointer, not the document
    assert REGISTRY.get_sample_value("focus_migration_legacy_unmappable_total", labels) == (
        before + 1
    )


def test_a_message_that_is_not_a_legacy_change_is_acknowledged_and_kept(legacy: Legacy) -> None:
    before = counted_unknown("undecodable")

    assert legacy.push_data(b"\x00 not a change") == 204

    assert counted_unknown("undecodable") == before + 1


def counted_unknown(outcome: str) -> float:
    labels = {"entity": "unknown", "outcome": outcome}
    return REGISTRY.get_sample_value("focus_migration_legacy_changes_total", labels) or 0.0


def test_a_transient_failure_is_retried_and_the_redelivery_applies_it_once(
    legacy: Legacy,
) -> None:
    created = change(legacy.uid, BLOCKLISTS, doc_id := auto_id(), None, blocklist_doc())
    legacy.sql("ALTER TABLE legacy_sync_positions RENAME TO legacy_sync_positions_away")
    try:
        assert legacy.push(created, attempt=1) == 503
    finally:
        legacy.sql("ALTER TABLE legacy_sync_positions_away RENAME TO legacy_sync_positions")

    assert legacy.blocklist(doc_id) is None  # nothing of the failed attempt stayed
    assert legacy.push(created, attempt=2) == 204
    assert legacy.push(created, attempt=3) == 204

    assert legacy.blocklist(doc_id) is not None
    assert [kind for kind, _, _, _ in legacy.events()] == ["blocklist.created"]


# --- real legacy writes -----------------------------------------------------------------------


def test_writes_made_in_firestore_reach_postgres(
    legacy: Legacy, firestore_emulator: FirestoreEmulator
) -> None:
    """As a legacy app writes (an auto-id, then a field `update`); the messages are built from
    the snapshots as functions/main.py builds them."""
    firestore = firestore_emulator.client()
    document = firestore.collection("users").document(legacy.uid).collection(BLOCKLISTS).document()
    document.set({"name": "Games", "apps": ["com.supercell.clashroyale"], "createdAt": utc_now()})
    created = document.get()
    document.update({"name": "Games and video", "sites": ["youtube.com"]})
    updated = document.get()

    for before, after in ((None, created), (created, updated)):
        message = LegacyChange.of(
            path=document.path,
            before=None if before is None else before.to_dict(),
            after=after.to_dict(),
            update_time=after.update_time,
            create_time=after.create_time,
            event_id=str(uuid.uuid4()),
        )
        assert legacy.push(message) == 204

    found = legacy.blocklist(document.id)
    assert found is not None
    assert found.name == "Games and video"
    assert [item.value for item in found.items] == ["com.supercell.clashroyale", "youtube.com"]
    assert [kind for kind, _, _, _ in legacy.events()] == ["blocklist.created", "blocklist.updated"]


def test_a_legacy_session_keeps_a_deleted_blocklist_and_drops_one_that_never_was(
    legacy: Legacy,
) -> None:
    # The backfill's and verify's rule: a link stands when Postgres has the blocklist, live or
    # deleted (history); a link to nothing is dropped.
    uid, gone_doc, never_doc = legacy.uid, auto_id(), auto_id()
    started = utc_now() - dt.timedelta(minutes=30)
    created = blocklist_doc()
    legacy.push(change(uid, BLOCKLISTS, gone_doc, None, created))
    legacy.push(change(uid, BLOCKLISTS, gone_doc, created, None))
    assert legacy.blocklist(gone_doc) is None  # deleted

    sessions = {}
    for doc in (gone_doc, never_doc):
        session_doc = auto_id()
        link = Reference(f"users/{uid}/blocklists/{doc}")
        running = {"startedAt": started, "plannedMinutes": 25, "status": "abandoned",
                   "endedAt": started + dt.timedelta(minutes=5), "blocklist": link}  # fmt: skip
        assert legacy.push(change(uid, SESSIONS, session_doc, None, running)) == 204
        session_id = record_id(uid, SESSIONS, session_doc)
        sessions[doc] = legacy.read(lambda uow, i=session_id: uow.focus_sessions.get(uid, i))

    kept, dropped = sessions[gone_doc], sessions[never_doc]
    assert kept is not None
    assert dropped is not None
    assert kept.blocklist_id == blocklist_id(legacy, gone_doc)
    assert dropped.blocklist_id is None
