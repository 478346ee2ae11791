"""The drift years of app versions left in the legacy documents, applied on purpose.

Each kind is tried on every document it can apply to, with probability `share`; the kinds of
the schedule's `blocklist` field exclude one another, so one roll decides whether that field
drifts and a second picks how (each then reaches about a third of `share`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from random import Random
from typing import Any

from migration.legacy.dataset import EPOCH, LegacyDocument, Ref, auto_id
from migration.legacy.layout import (
    BLOCKLISTS,
    DEVICES,
    SCHEDULES,
    SESSIONS,
    USAGE,
    USERS,
    DriftKind,
)

UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
STALE_AFTER = dt.timedelta(days=60)
OPTIONAL_FIELDS = {
    USERS: ("displayName", "locale", "dailyGoalMinutes", "notifications", "consents"),
    DEVICES: ("appVersion", "osVersion", "lastSeenAt", "updatedAt"),
    BLOCKLISTS: ("name", "apps", "sites", "categories", "updatedAt"),
    SCHEDULES: ("enabled", "hardMode", "pausedUntil", "updatedAt"),
    SESSIONS: ("hardMode", "createdAt", "updatedAt"),
    USAGE: ("pickups", "categories", "topApps", "updatedAt"),
}
"""Fields the layout gives a default: a missing one is mapped, never quarantined."""
UNKNOWN_FIELDS: dict[str, Any] = {
    "abBucket": 7,
    "legacyClient": "2.3.1",
    "debugFlags": {"verbose": True},
    "syncedFromWatch": True,
    "tags": ["beta"],
}

Drift = Callable[[LegacyDocument, Random], DriftKind | None]


def _missing_field(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    present = [name for name in OPTIONAL_FIELDS[doc.collection] if name in doc.data]
    if not present:
        return None
    del doc.data[rng.choice(present)]
    return DriftKind.MISSING_FIELD


def _stale_running_session(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    """Before 2.0 a crash mid-session left it `running` forever (no end was ever written)."""
    started = doc.data["startedAt"]
    if doc.data["status"] == "running" or started > EPOCH - STALE_AFTER:
        return None
    doc.data |= {"status": "running", "endedAt": None, "updatedAt": started}
    return DriftKind.STALE_RUNNING_SESSION


def _wrong_type(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    data = doc.data
    match doc.collection:
        case "devices":
            data["platform"] = rng.choice((1, 2))  # an enum index from an early Android build
        case "blocklists":
            data["sites"] = ",".join(data.get("sites") or ["youtube.com"])
        case "schedules":
            data["days"] = "weekdays"
        case "sessions":
            data["plannedMinutes"] = f"{data['plannedMinutes']} min"
        case "usage":
            data["totalMinutes"] = {"ios": data["totalMinutes"]}
        case _:
            return None
    return DriftKind.WRONG_TYPE


def _epoch_millis(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    field = "startedAt" if doc.collection == SESSIONS and rng.random() < 0.5 else "createdAt"
    value = doc.data.get(field)
    if not isinstance(value, dt.datetime):
        return None
    doc.data[field] = (value - UNIX_EPOCH) // dt.timedelta(milliseconds=1)
    return DriftKind.EPOCH_MILLIS_TIMESTAMP


def _iso_string(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    candidates = {SESSIONS: "endedAt", DEVICES: "lastSeenAt"}
    field = candidates.get(doc.collection, "updatedAt") if rng.random() < 0.5 else "updatedAt"
    value = doc.data.get(field)
    if not isinstance(value, dt.datetime):
        return None
    if rng.random() < 0.5:  # JavaScript's Date.toISOString()
        doc.data[field] = value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    else:  # Swift's ISO8601DateFormatter in the device's zone
        local = value.astimezone(dt.timezone(dt.timedelta(hours=rng.choice((-5, 1, 9)))))
        doc.data[field] = local.isoformat(timespec="seconds")
    return DriftKind.ISO_STRING_TIMESTAMP


def _missing_timezone(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    if doc.collection not in (USERS, SCHEDULES, SESSIONS) or "timezone" not in doc.data:
        return None
    del doc.data["timezone"]
    return DriftKind.MISSING_TIMEZONE


def _platform_casing(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    platform = doc.data.get("platform")
    if doc.collection != DEVICES or not isinstance(platform, str):
        return None
    doc.data["platform"] = rng.choice(
        ("iOS", "IOS") if platform == "ios" else ("Android", "ANDROID")
    )
    return DriftKind.PLATFORM_CASING


def _days_as_ints(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    days = doc.data.get("days")
    if doc.collection != SCHEDULES or not isinstance(days, list):
        return None
    week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    doc.data["days"] = [week.index(day) + 1 for day in days]  # ISO 8601: Monday is 1
    return DriftKind.DAYS_AS_INTS


def _goal_as_string(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    goal = doc.data.get("dailyGoalMinutes")
    if doc.collection != USERS or not isinstance(goal, int):
        return None
    doc.data["dailyGoalMinutes"] = str(goal)
    return DriftKind.GOAL_AS_STRING


def _blocklist_reference(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    ref = doc.data.get("blocklist")
    if not isinstance(ref, Ref):
        return None
    if doc.collection == SESSIONS:
        kind = DriftKind.BLOCKLIST_AS_ID_STRING
    elif doc.collection == SCHEDULES:
        kinds = (
            DriftKind.BLOCKLIST_AS_ID_STRING,
            DriftKind.BLOCKLIST_MISSING,
            DriftKind.DANGLING_BLOCKLIST,
        )
        kind = rng.choice(kinds)
    else:
        return None
    if kind is DriftKind.BLOCKLIST_AS_ID_STRING:
        doc.data["blocklist"] = ref.path.rsplit("/", 1)[1]
    elif kind is DriftKind.BLOCKLIST_MISSING:
        del doc.data["blocklist"]
    else:  # the blocklist was deleted later; the app never updated the schedules
        doc.data["blocklist"] = Ref(f"{USERS}/{doc.uid}/{BLOCKLISTS}/{auto_id(rng)}")
    return kind


def _unknown_fields(doc: LegacyDocument, rng: Random) -> DriftKind | None:
    for name in rng.sample(sorted(UNKNOWN_FIELDS), rng.randint(1, 3)):
        doc.data[name] = UNKNOWN_FIELDS[name]
    return DriftKind.UNKNOWN_FIELDS


DRIFTS: tuple[Drift, ...] = (
    # Fields go missing first, and a session goes stale while its instants are still
    # datetimes; the conversions of instants come after.
    _missing_field,
    _stale_running_session,
    _wrong_type,
    _epoch_millis,
    _iso_string,
    _missing_timezone,
    _platform_casing,
    _days_as_ints,
    _goal_as_string,
    _blocklist_reference,
    _unknown_fields,
)
APPLIES_TO: dict[Drift, tuple[str, ...]] = {
    _stale_running_session: (SESSIONS,),
    _wrong_type: (DEVICES, BLOCKLISTS, SCHEDULES, SESSIONS, USAGE),
}


def apply_drift(
    docs: list[LegacyDocument], rng: Random, share: float, counts: Counter[DriftKind]
) -> None:
    """Drift about `share` of the documents in each way that fits them; count what was done."""
    for doc in docs:
        for drift in DRIFTS:
            allowed = APPLIES_TO.get(drift)
            if allowed is not None and doc.collection not in allowed:
                continue
            if rng.random() < share and (kind := drift(doc, rng)) is not None:
                counts[kind] += 1
