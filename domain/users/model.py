"""The user: profile, preferences and consents. Keyed by the Firebase uid forever."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import ValidationFailed

MAX_DAILY_GOAL_MINUTES = 24 * 60
DEFAULT_DAILY_GOAL_MINUTES = 60


def validate_timezone(name: str, field_name: str = "timezone") -> str:
    """An IANA timezone name the server knows (e.g. `Europe/Berlin`)."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise ValidationFailed.on(field_name, "invalid_timezone", "not an IANA timezone name")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.on(
            field_name, "invalid_timezone", f"unknown IANA timezone: {name}"
        ) from exc
    return name


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times between which no visible notification is sent; may cross midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class NotificationPreferences:
    enabled: bool = True
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True, slots=True)
class Consents:
    ai_features: bool = False
    analytics: bool = False


@dataclass(frozen=True, slots=True)
class User:
    uid: str
    display_name: str | None
    timezone: str
    locale: str | None
    daily_goal_minutes: int
    notifications: NotificationPreferences
    consents: Consents
    version: int
    created_at: datetime
    updated_at: datetime


def new_user(uid: str, now: datetime) -> User:
    """The profile a user has from their first call on: defaults, version 0 (never written)."""
    return User(
        uid=uid,
        display_name=None,
        timezone="UTC",
        locale=None,
        daily_goal_minutes=DEFAULT_DAILY_GOAL_MINUTES,
        notifications=NotificationPreferences(),
        consents=Consents(),
        version=0,
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """What a client asked to change; only the fields it sent are set.

    Nested preferences change field by field (`notifications`, `consents`): applied to the
    profile as it is under the user's lock, so that two phones changing different fields
    of one group at once both keep their change.
    """

    values: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, Any] = field(default_factory=dict)

    def apply_to(self, user: User) -> User:
        changes = dict(self.values)
        if "timezone" in changes:
            validate_timezone(changes["timezone"])
        goal = changes.get("daily_goal_minutes")
        if goal is not None and not 1 <= goal <= MAX_DAILY_GOAL_MINUTES:
            raise ValidationFailed.on(
                "daily_goal_minutes", "out_of_range", "must be between 1 and 1440 minutes"
            )
        if self.notifications:
            changes["notifications"] = replace(user.notifications, **self.notifications)
        if self.consents:
            changes["consents"] = replace(user.consents, **self.consents)
        return replace(user, **changes)
