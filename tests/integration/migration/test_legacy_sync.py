"""Legacy sync: changes old app versions make in Firestore, pushed as Pub/Sub would push them to
`/internal/pubsub/legacy-sync`, land in Postgres as the API's own writes do (a new version, the
same outbox event) or are dropped by the rules of ADR 0012. Real PostgreSQL; the messages are
encoded as `functions/` encodes them (what is dropped, kept or retried, and writes made in the
Firestore emulator itself: `test_legacy_sync_delivery.py`)."""

from __future__ import annotations

import datetime as dt
import uuid

from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.blocklists.model import BlockItem, Blocklist, ItemKind
from domain.common import new_id, utc_now
from domain.migration import Entity
from functions.legacy_change import Reference
from migration.firestore.layout import BLOCKLISTS, SCHEDULES, SESSIONS, record_id
from migration.firestore.mapping import blocklists as blocklist_mapping
from tests.integration.migration.legacy_sync_harness import (
    Legacy,
    auto_id,
    blocklist_doc,
    blocklist_id,
    change,
    counted,
)

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
