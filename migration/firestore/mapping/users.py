"""`users/{uid}` ↔ User. A user document is never quarantined: every field has a default."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from domain.users.model import (
    DEFAULT_DAILY_GOAL_MINUTES,
    MAX_DAILY_GOAL_MINUTES,
    Consents,
    NotificationPreferences,
    QuietHours,
    User,
)
from migration.firestore.layout import USERS
from migration.firestore.mapping.common import (
    MappingContext,
    backend_fields,
    note_unknown,
    stamps,
    valid_timezone,
    version_of,
)

KNOWN = ("displayName", "timezone", "locale", "dailyGoalMinutes", "notifications", "consents")
KNOWN_STAMPS = ("createdAt", "updatedAt")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def user_timezone(data: dict[str, Any], context: MappingContext) -> str:
    """Its own, else its most recently seen device's valid one, else UTC."""
    own = valid_timezone(data.get("timezone"))
    if own is not None:
        return own
    for candidate in context.device_timezones:
        if (zone := valid_timezone(candidate)) is not None:
            return zone
    return "UTC"


def from_document(
    uid: str,
    doc_id: str,
    data: dict[str, Any],
    *,
    create_time: dt.datetime,
    update_time: dt.datetime,
    context: MappingContext,
) -> User:
    note_unknown(data, (*KNOWN, *KNOWN_STAMPS), context, USERS)
    created_at, updated_at = stamps(data, context, USERS, create_time, update_time)
    notifications = data.get("notifications")
    consents = data.get("consents")
    return User(
        uid=doc_id,
        display_name=_display_name(data.get("displayName")),
        timezone=user_timezone(data, context),
        locale=data["locale"].replace("_", "-") if isinstance(data.get("locale"), str) else None,
        daily_goal_minutes=_goal(data.get("dailyGoalMinutes"), context),
        notifications=NotificationPreferences(
            enabled=_flag(notifications, "enabled", default=True),
            quiet_hours=_quiet_hours(notifications),
        ),
        consents=Consents(
            ai_features=_flag(consents, "ai", default=False),
            analytics=_flag(consents, "analytics", default=False),
        ),
        version=version_of(data),
        created_at=created_at,
        updated_at=updated_at,
    )


def to_document(user: User) -> dict[str, Any]:
    quiet = user.notifications.quiet_hours
    return {
        "displayName": user.display_name,
        "timezone": user.timezone,
        "locale": user.locale,
        "dailyGoalMinutes": user.daily_goal_minutes,
        "notifications": {
            "enabled": user.notifications.enabled,
            "quietHours": (
                {"start": quiet.start.strftime("%H:%M"), "end": quiet.end.strftime("%H:%M")}
                if quiet
                else None
            ),
        },
        "consents": {"ai": user.consents.ai_features, "analytics": user.consents.analytics},
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
        **backend_fields(user.version),
    }


def _display_name(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def _goal(value: Any, context: MappingContext) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 1 <= value <= MAX_DAILY_GOAL_MINUTES
    ):
        return value
    context.note(f"{USERS}.dailyGoalMinutes:default")
    return DEFAULT_DAILY_GOAL_MINUTES


def _flag(parent: Any, name: str, *, default: bool) -> bool:
    value = parent.get(name) if isinstance(parent, dict) else None
    return value if isinstance(value, bool) else default


def _quiet_hours(notifications: Any) -> QuietHours | None:
    quiet = notifications.get("quietHours") if isinstance(notifications, dict) else None
    if not isinstance(quiet, dict):
        return None
    start, end = (_hh_mm(quiet.get(name)) for name in ("start", "end"))
    if start is None or end is None:
        return None
    return QuietHours(dt.time(int(start[1]), int(start[2])), dt.time(int(end[1]), int(end[2])))


def _hh_mm(value: Any) -> re.Match[str] | None:
    return _HH_MM.match(value) if isinstance(value, str) else None
