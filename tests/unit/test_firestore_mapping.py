"""Legacy documents → entities, drift rule by drift rule (docs/migration/legacy-firestore.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from domain.blocklists.model import BlockItem, ItemKind
from domain.devices.model import ApnsEnvironment, Platform
from domain.focus_sessions.model import Outcome
from domain.schedules.model import Weekday
from domain.usage.model import UsageCategory
from migration.firestore.layout import BLOCKLISTS, SESSIONS, QuarantineReason, record_id
from migration.firestore.mapping import blocklists, devices, focus_sessions, schedules, usage, users
from migration.firestore.mapping.common import MappingContext, Unmappable

UID = "u" * 28
AS_OF = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CREATED = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)
UPDATED = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
BLOCKLIST_DOC = "dOnprj2fHgqfR9WVfTmo"
IOS_TOKEN = "ab" * 32
CLIENT = firestore.Client(project="demo-focus", credentials=AnonymousCredentials())


def context(**values: Any) -> MappingContext:
    return MappingContext(as_of=AS_OF, **values)


def mapped(module: Any, data: dict[str, Any], doc_id: str = "doc1", **values: Any) -> Any:
    return module.from_document(
        UID, doc_id, data, create_time=CREATED, update_time=UPDATED, context=context(**values)
    )


def refused(module: Any, data: dict[str, Any], doc_id: str = "doc1", **values: Any) -> Unmappable:
    with pytest.raises(Unmappable) as raised:
        mapped(module, data, doc_id, **values)
    return raised.value


def blocklist_ref(uid: str = UID, doc_id: str = BLOCKLIST_DOC) -> firestore.DocumentReference:
    return CLIENT.document(f"users/{uid}/{BLOCKLISTS}/{doc_id}")


def schedule_doc(**changes: Any) -> dict[str, Any]:
    data = {"days": ["mon"], "startTime": "09:00", "endTime": "17:00", "blocklist": blocklist_ref()}
    return {**data, **changes}


def session_doc(**changes: Any) -> dict[str, Any]:
    started = AS_OF - dt.timedelta(hours=2)
    data = {
        "startedAt": started,
        "plannedMinutes": 25,
        "status": "completed",
        "endedAt": started + dt.timedelta(minutes=25),
    }
    return {**data, **changes}


def test_epoch_millis_and_iso_strings_are_instants() -> None:
    millis = (CREATED - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    user = mapped(users, {"createdAt": millis, "updatedAt": "2025-06-02T17:00:00+09:00"})
    assert (user.created_at, user.updated_at) == (CREATED, UPDATED)
    assert mapped(users, {"updatedAt": "2025-06-02T08:00:00.000Z"}).updated_at == UPDATED


@pytest.mark.parametrize(
    "value", ["2025-06-02T08:00:00", 1.5, "yesterday", dt.datetime(2014, 12, 31, tzinfo=dt.UTC)]
)
def test_an_unmappable_stamp_falls_back_to_the_document_times(value: Any) -> None:
    assert mapped(users, {"createdAt": value}).created_at == CREATED


def test_an_instant_far_after_as_of_is_unmappable() -> None:
    later = AS_OF + dt.timedelta(minutes=6)
    assert refused(focus_sessions, session_doc(startedAt=later)).reason == "invalid_value"


def test_a_missing_user_timezone_comes_from_the_latest_device_then_utc() -> None:
    assert mapped(users, {}, device_timezones=("Nowhere/City", "Asia/Tokyo")).timezone == (
        "Asia/Tokyo"
    )
    assert mapped(users, {}).timezone == "UTC"


def test_schedules_and_sessions_without_timezone_take_the_users() -> None:
    assert mapped(schedules, schedule_doc(), user_timezone="Europe/Berlin").timezone == (
        "Europe/Berlin"
    )
    assert mapped(focus_sessions, session_doc()).timezone == "UTC"


def test_goal_as_string_is_its_number_and_nonsense_is_the_default() -> None:
    assert mapped(users, {"dailyGoalMinutes": "45"}).daily_goal_minutes == 45
    assert mapped(users, {"dailyGoalMinutes": "lots"}).daily_goal_minutes == 60
    assert mapped(users, {"dailyGoalMinutes": 0}).daily_goal_minutes == 60


def test_a_user_document_takes_defaults_and_android_locales() -> None:
    user = mapped(users, {"displayName": "  ", "locale": "en_GB", "consents": {"ai": "yes"}})
    assert (user.display_name, user.locale, user.consents.ai_features) == (None, "en-GB", False)
    assert user.notifications.enabled is True
    assert user.version == 0


def test_platform_casing_is_lower_cased() -> None:
    device = mapped(devices, {"platform": "iOS", "pushToken": IOS_TOKEN}, "A" * 36)
    assert device.platform is Platform.IOS
    assert device.apns_environment is ApnsEnvironment.PRODUCTION
    assert device.app_version == "0.0.0"


@pytest.mark.parametrize(
    ("platform", "reason"),
    [(None, "missing_required"), (1, "wrong_type"), ("windows", "invalid_value")],
)
def test_a_device_without_a_known_platform_is_quarantined(platform: Any, reason: str) -> None:
    data = {} if platform is None else {"platform": platform}
    assert refused(devices, data, "A" * 36).reason == reason


def test_a_device_with_an_invalid_installation_id_is_quarantined() -> None:
    assert refused(devices, {"platform": "ios"}, "bad id!").reason == "invalid_id"


def test_an_invalid_push_token_is_dropped() -> None:
    device = mapped(devices, {"platform": "ios", "pushToken": "not hex"}, "A" * 36)
    assert (device.push_token, device.apns_environment) == (None, None)


def test_days_as_iso_ints_and_names_map_to_weekdays_in_week_order() -> None:
    assert mapped(schedules, schedule_doc(days=[7, 1, 1])).days == (Weekday.MON, Weekday.SUN)
    assert mapped(schedules, schedule_doc(days=["Friday", "TUE"])).days == (
        Weekday.TUE,
        Weekday.FRI,
    )


@pytest.mark.parametrize(
    ("changes", "reason", "field"),
    [
        ({"days": "weekdays"}, "wrong_type", "days"),
        ({"days": []}, "invalid_value", "days"),
        ({"days": [8]}, "invalid_value", "days"),
        ({"startTime": None}, "missing_required", "startTime"),
        ({"endTime": "09:00"}, "invalid_value", "endTime"),
        ({"blocklist": None}, "missing_blocklist", "blocklist"),
        ({"blocklist": 7}, "wrong_type", "blocklist"),
        ({"blocklist": blocklist_ref(uid="x" * 28)}, "foreign_blocklist", "blocklist"),
    ],
)
def test_a_schedule_that_cannot_be_enforced_is_quarantined(
    changes: dict[str, Any], reason: str, field: str
) -> None:
    raised = refused(schedules, schedule_doc(**changes))
    assert (raised.reason, raised.field) == (reason, field)


def test_a_blocklist_as_id_string_is_the_same_id_as_the_reference() -> None:
    by_ref = mapped(schedules, schedule_doc())
    by_id = mapped(schedules, schedule_doc(blocklist=BLOCKLIST_DOC))
    assert by_ref.blocklist_id == by_id.blocklist_id == record_id(UID, BLOCKLISTS, BLOCKLIST_DOC)


def test_a_dangling_blocklist_quarantines_a_schedule_but_only_unlinks_a_session() -> None:
    known = frozenset[UUID]()
    assert refused(schedules, schedule_doc(), blocklist_ids=known).reason == "dangling_blocklist"
    session = mapped(focus_sessions, session_doc(blocklist=blocklist_ref()), blocklist_ids=known)
    assert session.blocklist_id is None


def test_a_stale_running_session_is_abandoned_at_its_planned_end() -> None:
    started = AS_OF - dt.timedelta(days=90)
    session = mapped(focus_sessions, session_doc(startedAt=started, status="running", endedAt=None))
    assert (session.outcome, session.ended_at) == (
        Outcome.ABANDONED,
        started + dt.timedelta(minutes=25),
    )


def test_a_recent_running_session_stays_running() -> None:
    started = AS_OF - dt.timedelta(minutes=5)
    session = mapped(focus_sessions, session_doc(startedAt=started, status="running", endedAt=None))
    assert session.is_running


def test_a_session_without_status_takes_it_from_its_end() -> None:
    started = AS_OF - dt.timedelta(hours=2)
    early = mapped(
        focus_sessions,
        session_doc(status=None, startedAt=started, endedAt=started + dt.timedelta(minutes=10)),
    )
    assert early.outcome is Outcome.ABANDONED
    assert mapped(focus_sessions, session_doc(status=None)).outcome is Outcome.COMPLETED


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"plannedMinutes": "25 min"}, "wrong_type"),
        ({"plannedMinutes": 0}, "invalid_value"),
        ({"startedAt": None}, "missing_required"),
        ({"status": "paused"}, "invalid_value"),
    ],
)
def test_a_session_without_a_usable_start_or_plan_is_quarantined(
    changes: dict[str, Any], reason: str
) -> None:
    assert refused(focus_sessions, session_doc(**changes)).reason == reason


def test_an_end_more_than_a_day_after_the_start_is_cut() -> None:
    started = AS_OF - dt.timedelta(days=3)
    session = mapped(
        focus_sessions, session_doc(startedAt=started, endedAt=started + dt.timedelta(days=2))
    )
    assert session.ended_at == started + dt.timedelta(hours=24)


def test_blocklist_arrays_become_items_and_a_string_is_quarantined() -> None:
    blocklist = mapped(
        blocklists,
        {"apps": ["com.example.app", "%%", "com.example.app"], "sites": ["Example.COM"]},
    )
    assert blocklist.items == (
        BlockItem(ItemKind.ANDROID_PACKAGE, "com.example.app"),
        BlockItem(ItemKind.WEB_DOMAIN, "example.com"),
    )
    assert blocklist.name == "Blocklist"
    assert refused(blocklists, {"sites": "a.com,b.com"}).reason == "wrong_type"


def test_usage_figures_keep_to_the_rules() -> None:
    report = mapped(
        usage,
        {
            "totalMinutes": 100,
            "pickups": -1,
            "categories": {"social": 10, "crafts": 5, "other": 1},
            "topApps": [{"token": "a", "minutes": 5}, {"token": "a", "minutes": 9}, {"x": 1}],
        },
        "2025-12-01_" + "A" * 36,
    )
    assert report.pickups == 0
    assert report.minutes_per_category == {UsageCategory.SOCIAL: 10, UsageCategory.OTHER: 6}
    assert [app.minutes for app in report.top_apps] == [5]


@pytest.mark.parametrize(
    ("doc_id", "data", "reason"),
    [
        ("2025-12-01", {"totalMinutes": 1}, "invalid_id"),
        ("2025-12-01_" + "A" * 36, {}, "missing_required"),
        ("2025-12-01_" + "A" * 36, {"totalMinutes": {"ios": 1}}, "wrong_type"),
        ("2025-12-01_" + "A" * 36, {"totalMinutes": 2000}, "invalid_value"),
    ],
)
def test_a_usage_document_without_a_usable_total_or_id_is_quarantined(
    doc_id: str, data: dict[str, Any], reason: str
) -> None:
    assert refused(usage, data, doc_id).reason == reason


def test_unknown_and_underscored_fields_are_left_out_and_counted() -> None:
    ctx = context()
    user = users.from_document(
        UID,
        UID,
        {"abBucket": 7, "_private": 1, "_v": 12},
        create_time=CREATED,
        update_time=UPDATED,
        context=ctx,
    )
    assert user.version == 12
    assert ctx.counts["users.abBucket:unknown"] == 1
    assert not any("_private" in key for key in ctx.counts)


def test_a_subcollection_document_of_a_missing_user_is_an_orphan() -> None:
    raised = refused(blocklists, {}, user_exists=False)
    assert raised.reason is QuarantineReason.ORPHAN_OF_DELETED_USER


def test_older_running_sessions_end_when_the_next_one_starts() -> None:
    first = mapped(focus_sessions, session_doc(status="running", endedAt=None), "a" * 20)
    later = first.started_at + dt.timedelta(minutes=10)
    second = mapped(
        focus_sessions, session_doc(status="running", endedAt=None, startedAt=later), "b" * 20
    )
    settled = focus_sessions.settle_running([second, first])
    assert [s.outcome for s in settled] == [Outcome.ABANDONED, None]
    assert settled[0].ended_at == later


def test_a_session_written_by_the_backend_is_never_ended_as_stale() -> None:
    started = AS_OF - dt.timedelta(days=3)
    data = session_doc(startedAt=started, status="running", endedAt=None, _v=4)
    assert mapped(focus_sessions, data).is_running
    assert record_id(UID, SESSIONS, "a" * 20) != record_id(UID, BLOCKLISTS, "a" * 20)
