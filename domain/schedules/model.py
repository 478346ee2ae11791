"""Schedules: weekly windows of local wall time during which a blocklist is enforced."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.blocklists.model import validate_name
from domain.errors import LimitExceeded, ValidationFailed
from domain.users.model import validate_timezone

MAX_SCHEDULES_PER_USER = 50
MAX_PAUSE = timedelta(days=30)

_LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")  # ASCII digits; fullmatch


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return _WEEK[day.weekday()]


_WEEK = tuple(Weekday)


class Strictness(StrEnum):
    NORMAL = "normal"
    HARD = "hard"
    """The apps offer no way out of a hard window while it is active."""


@dataclass(frozen=True, slots=True)
class Schedule:
    id: UUID
    user_id: str
    name: str
    days: tuple[Weekday, ...]
    """In week order, Monday first; no duplicates."""
    start_local: time
    end_local: time
    """Earlier than `start_local` when the window crosses midnight."""
    timezone: str
    blocklist_id: UUID
    strictness: Strictness
    enabled: bool
    paused_until: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def crosses_midnight(self) -> bool:
        return self.end_local < self.start_local


@dataclass(frozen=True, slots=True)
class ScheduleDraft:
    """What a client sends to create a schedule."""

    name: str
    days: Iterable[Weekday]
    start_local: str
    end_local: str
    timezone: str
    blocklist_id: UUID
    strictness: Strictness = Strictness.NORMAL
    enabled: bool = True
    paused_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScheduleChanges:
    """A merge patch: only the fields a client sent are set (local times as `HH:MM`)."""

    values: dict[str, Any] = field(default_factory=dict)

    def apply_to(self, schedule: Schedule, now: datetime) -> Schedule:
        v = self.values
        changed = replace(
            schedule,
            name=validate_name(v["name"]) if "name" in v else schedule.name,
            days=validate_days(v["days"]) if "days" in v else schedule.days,
            start_local=(
                parse_local_time(v["start_local"], "start_local")
                if "start_local" in v
                else schedule.start_local
            ),
            end_local=(
                parse_local_time(v["end_local"], "end_local")
                if "end_local" in v
                else schedule.end_local
            ),
            timezone=validate_timezone(v["timezone"]) if "timezone" in v else schedule.timezone,
            blocklist_id=v.get("blocklist_id", schedule.blocklist_id),
            strictness=v.get("strictness", schedule.strictness),
            enabled=v.get("enabled", schedule.enabled),
            paused_until=(
                validate_paused_until(v["paused_until"], now)
                if "paused_until" in v
                else schedule.paused_until
            ),
        )
        check_window(changed.start_local, changed.end_local)
        return changed


def parse_local_time(value: str, field_name: str) -> time:
    matched = _LOCAL_TIME.fullmatch(value)
    if not matched:
        raise ValidationFailed.on(
            field_name, "invalid_local_time", "a local time HH:MM, 00:00-23:59"
        )
    return time(int(matched[1]), int(matched[2]))


def format_local_time(value: time) -> str:
    return value.strftime("%H:%M")


def validate_days(days: Iterable[Weekday]) -> tuple[Weekday, ...]:
    chosen = set(days)
    if not chosen:
        raise ValidationFailed.on("days", "no_days", "choose at least one weekday")
    return tuple(d for d in _WEEK if d in chosen)


def check_window(start_local: time, end_local: time) -> None:
    if start_local == end_local:
        raise ValidationFailed.on(
            "end_local", "empty_window", "end_local must differ from start_local"
        )


def validate_paused_until(paused_until: datetime | None, now: datetime) -> datetime | None:
    if paused_until is None:
        return None
    if paused_until <= now:
        raise ValidationFailed.on("paused_until", "not_in_future", "must be in the future")
    if paused_until > now + MAX_PAUSE:
        raise ValidationFailed.on(
            "paused_until", "too_far_ahead", f"at most {MAX_PAUSE.days} days ahead"
        )
    return paused_until


def check_schedule_cap(live_schedules: int) -> None:
    if live_schedules >= MAX_SCHEDULES_PER_USER:
        raise LimitExceeded(
            code="too_many_schedules",
            detail=f"at most {MAX_SCHEDULES_PER_USER} schedules per user; delete one first",
        )


def is_active(schedule: Schedule, instant: datetime) -> bool:
    """Whether the schedule blocks at `instant`: enabled, not paused, and inside its window."""
    if not schedule.enabled:
        return False
    if schedule.paused_until is not None and instant < schedule.paused_until:
        return False
    return window_covers(schedule, instant)


def window_covers(schedule: Schedule, instant: datetime) -> bool:
    """Whether the wall clock in the schedule's timezone reads inside a window at `instant`.

    Windows are wall-clock times, compared as the user's clock shows them: across a DST change
    a window simply lasts an hour more or less, a start in the skipped hour begins when the
    clock jumps past it, and a repeated hour is inside both times. A window that crosses
    midnight belongs to the day it starts on: Friday 22:00-06:00 covers Saturday 03:00.
    """
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local = instant.astimezone(ZoneInfo(schedule.timezone)).replace(tzinfo=None)
    for start_day in (local.date(), local.date() - timedelta(days=1)):
        if Weekday.of(start_day) not in schedule.days:
            continue
        start = datetime.combine(start_day, schedule.start_local)
        end_day = start_day + timedelta(days=1) if schedule.crosses_midnight else start_day
        if start <= local < datetime.combine(end_day, schedule.end_local):
            return True
    return False
