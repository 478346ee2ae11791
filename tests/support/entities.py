"""One entity of each kind, as the use cases would make them, for round trips through stores."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from domain.blocklists.model import BlockItem, Blocklist, ItemKind
from domain.devices.model import ApnsEnvironment, Device, Platform
from domain.focus_sessions.model import FocusMode, FocusSession, Outcome, local_date_of
from domain.schedules.model import Schedule, Strictness, Weekday
from domain.usage.model import AppUsage, UsageCategory, UsageReport
from domain.users.model import Consents, NotificationPreferences, QuietHours, User

AT = dt.datetime(2025, 11, 3, 10, 15, 30, 123456, tzinfo=dt.UTC)
INSTALLATION = "0F6E1D2C-3B4A-4958-8776-65544332211A"


def user(uid: str, version: int = 1) -> User:
    return User(
        uid=uid,
        display_name="Noor",
        timezone="Asia/Tokyo",
        locale="en-GB",
        daily_goal_minutes=90,
        notifications=NotificationPreferences(True, QuietHours(dt.time(22), dt.time(7, 30))),
        consents=Consents(ai_features=True, analytics=False),
        version=version,
        created_at=AT,
        updated_at=AT + dt.timedelta(hours=1),
    )


def device(uid: str, installation_id: str = INSTALLATION, version: int = 2) -> Device:
    return Device(
        user_id=uid,
        installation_id=installation_id,
        platform=Platform.IOS,
        push_token="ab" * 32,
        apns_environment=ApnsEnvironment.SANDBOX,
        app_version="3.1.0",
        os_version="18.1",
        timezone="Asia/Tokyo",
        last_seen_at=AT + dt.timedelta(minutes=5),
        version=version,
        created_at=AT,
        updated_at=AT + dt.timedelta(minutes=5),
    )


def blocklist(uid: str, blocklist_id: UUID, version: int = 3) -> Blocklist:
    """Items in the layout's order (apps, sites, categories): the order it can hold."""
    return Blocklist(
        id=blocklist_id,
        user_id=uid,
        name="Social",
        items=(
            BlockItem(ItemKind.ANDROID_PACKAGE, "com.instagram.android"),
            BlockItem(ItemKind.IOS_TOKEN, "aGVsbG8gd29ybGQ="),
            BlockItem(ItemKind.WEB_DOMAIN, "xn--bcher-kva.de"),
            BlockItem(ItemKind.CATEGORY, "games"),
        ),
        version=version,
        created_at=AT,
        updated_at=AT,
    )


def schedule(uid: str, schedule_id: UUID, blocklist_id: UUID, version: int = 4) -> Schedule:
    return Schedule(
        id=schedule_id,
        user_id=uid,
        name="Evenings",
        days=(Weekday.MON, Weekday.WED, Weekday.SUN),
        start_local=dt.time(22),
        end_local=dt.time(6, 30),
        timezone="Europe/Berlin",
        blocklist_id=blocklist_id,
        strictness=Strictness.HARD,
        enabled=True,
        paused_until=AT + dt.timedelta(days=2),
        version=version,
        created_at=AT,
        updated_at=AT,
    )


def session(
    uid: str,
    session_id: UUID,
    blocklist_id: UUID | None,
    started_at: dt.datetime = AT,
    *,
    running: bool = False,
    version: int = 5,
) -> FocusSession:
    planned = 25 * 60
    return FocusSession(
        id=session_id,
        user_id=uid,
        blocklist_id=blocklist_id,
        mode=FocusMode.NORMAL,
        planned_duration_seconds=planned,
        started_at=started_at,
        ended_at=None if running else started_at + dt.timedelta(seconds=planned + 7),
        outcome=None if running else Outcome.COMPLETED,
        timezone="America/New_York",
        local_date=local_date_of(started_at, "America/New_York"),
        version=version,
        created_at=started_at,
        updated_at=started_at,
    )


def usage_report(
    uid: str, day: dt.date, installation_id: str = INSTALLATION, version: int = 6
) -> UsageReport:
    return UsageReport(
        user_id=uid,
        installation_id=installation_id,
        date=day,
        total_minutes=300,
        pickups=88,
        minutes_per_category={UsageCategory.SOCIAL: 120, UsageCategory.OTHER: 30},
        top_apps=(AppUsage("com.instagram.android", 90), AppUsage("aGVsbG8=", 20)),
        version=version,
        created_at=AT,
        updated_at=AT,
    )


def ended_session(
    uid: str,
    session_id: UUID,
    started_at: dt.datetime,
    length: dt.timedelta,
    timezone: str,
    outcome: Outcome,
    *,
    version: int = 1,
) -> FocusSession:
    """A session that ran `length` from `started_at` in `timezone`, ended as `outcome`."""
    return FocusSession(
        id=session_id,
        user_id=uid,
        blocklist_id=None,
        mode=FocusMode.NORMAL,
        planned_duration_seconds=60,
        started_at=started_at,
        ended_at=started_at + length,
        outcome=outcome,
        timezone=timezone,
        local_date=local_date_of(started_at, timezone),
        version=version,
        created_at=started_at,
        updated_at=started_at,
    )
