"""A device's screen time for one local calendar day, and the rules it must keep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.common import MAX_CLIENT_CLOCK_SKEW_SECONDS
from domain.errors import ValidationFailed

MINUTES_PER_DAY = 24 * 60
MAX_PICKUPS_PER_DAY = 10_000
MAX_TOP_APPS = 50
MAX_APP_TOKEN_LENGTH = 1024
MAX_REPORT_AGE_DAYS = 400
MAX_LIST_RANGE_DAYS = 366


class UsageCategory(StrEnum):
    """The categories both platforms can map to: iOS Screen Time's, Android's folded in."""

    SOCIAL = "social"
    COMMUNICATION = "communication"
    ENTERTAINMENT = "entertainment"
    GAMES = "games"
    CREATIVITY = "creativity"
    EDUCATION = "education"
    HEALTH_FITNESS = "health_fitness"
    INFORMATION_READING = "information_reading"
    PRODUCTIVITY_FINANCE = "productivity_finance"
    SHOPPING_FOOD = "shopping_food"
    TRAVEL = "travel"
    UTILITIES = "utilities"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AppUsage:
    """Minutes in one app. `token` is opaque: an iOS `ApplicationToken` (base64) or an
    Android package name; the server never interprets it."""

    token: str
    minutes: int


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """What a device reports for one day."""

    total_minutes: int
    pickups: int
    minutes_per_category: Mapping[UsageCategory, int] = field(default_factory=dict)
    top_apps: tuple[AppUsage, ...] = ()


@dataclass(frozen=True, slots=True)
class UsageReport:
    user_id: str
    installation_id: str
    date: dt.date
    total_minutes: int
    pickups: int
    minutes_per_category: Mapping[UsageCategory, int]
    top_apps: tuple[AppUsage, ...]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def usage(self) -> DailyUsage:
        return DailyUsage(
            self.total_minutes, self.pickups, dict(self.minutes_per_category), self.top_apps
        )


def _minutes(value: int, field_name: str) -> None:
    if not 0 <= value <= MINUTES_PER_DAY:
        raise ValidationFailed.on(field_name, "out_of_range", "0 to 1440 minutes")


def _parts_fit(parts: Iterable[int], total: int, field_name: str, code: str) -> None:
    # Clients round each part to whole minutes, so each part may add up to one minute.
    values = list(parts)
    if sum(values) > total + len(values):
        raise ValidationFailed.on(field_name, code, "the parts add up to more than total_minutes")


def validate_daily_usage(usage: DailyUsage) -> DailyUsage:
    """Check the figures and put them in one canonical form (top apps by minutes, then token),
    so that the same report sent twice compares equal."""
    _minutes(usage.total_minutes, "total_minutes")
    if not 0 <= usage.pickups <= MAX_PICKUPS_PER_DAY:
        raise ValidationFailed.on("pickups", "out_of_range", f"0 to {MAX_PICKUPS_PER_DAY}")
    for category, minutes in usage.minutes_per_category.items():
        _minutes(minutes, f"minutes_per_category.{category}")
    _parts_fit(
        usage.minutes_per_category.values(),
        usage.total_minutes,
        "minutes_per_category",
        "categories_exceed_total",
    )
    if len(usage.top_apps) > MAX_TOP_APPS:
        raise ValidationFailed.on("top_apps", "too_many_apps", f"at most {MAX_TOP_APPS} apps")
    for index, app in enumerate(usage.top_apps):
        if not 0 < len(app.token) <= MAX_APP_TOKEN_LENGTH:
            raise ValidationFailed.on(
                f"top_apps.{index}.token", "invalid_token", "1 to 1024 characters"
            )
        _minutes(app.minutes, f"top_apps.{index}.minutes")
    if len({app.token for app in usage.top_apps}) != len(usage.top_apps):
        raise ValidationFailed.on("top_apps", "duplicate_app", "each app may appear once")
    _parts_fit(
        (app.minutes for app in usage.top_apps),
        usage.total_minutes,
        "top_apps",
        "apps_exceed_total",
    )
    return DailyUsage(
        total_minutes=usage.total_minutes,
        pickups=usage.pickups,
        minutes_per_category=dict(usage.minutes_per_category),
        top_apps=tuple(sorted(usage.top_apps, key=lambda app: (-app.minutes, app.token))),
    )


def latest_local_date(now: dt.datetime, timezones: Iterable[str]) -> dt.date:
    """The latest calendar day any of these zones has reached, allowing for clients' fast
    clocks: a phone a few minutes ahead may already report tomorrow's first minutes."""
    ahead = now + dt.timedelta(seconds=MAX_CLIENT_CLOCK_SKEW_SECONDS)
    return max(ahead.astimezone(ZoneInfo(zone)).date() for zone in timezones)


def check_report_date(day: dt.date, today: dt.date) -> dt.date:
    if day > today:
        raise ValidationFailed.on("date", "date_in_future", "this day has not begun yet")
    if day < today - dt.timedelta(days=MAX_REPORT_AGE_DAYS):
        raise ValidationFailed.on(
            "date", "date_too_old", f"reports older than {MAX_REPORT_AGE_DAYS} days are refused"
        )
    return day


def check_list_range(first: dt.date, last: dt.date) -> None:
    if first > last:
        raise ValidationFailed.on("from", "invalid_range", "`from` is after `to`")
    if (last - first).days + 1 > MAX_LIST_RANGE_DAYS:
        raise ValidationFailed.on(
            "to", "range_too_long", f"at most {MAX_LIST_RANGE_DAYS} days per request"
        )
