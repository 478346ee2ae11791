"""Wire shapes of the profile. Quiet hours are local wall-clock times (`HH:MM`, no offset);
`MePatch` is a JSON merge patch: null clears a nullable field and is refused for the others.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from api.schemas import (
    RequestModel,
    ResponseModel,
    StrictBool,
    StrictInt,
    Timezone,
    UtcDatetime,
    not_null,
)
from domain.users.model import User

LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
_WALL_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")


def _wall_clock(value: object) -> object:
    # A local time as the phone's clock shows it: no offset, no seconds since midnight.
    if not isinstance(value, str) or not _WALL_CLOCK.fullmatch(value):
        raise PydanticCustomError("invalid_local_time", "a local time HH:MM, 00:00-23:59")
    return value


LocalTimeIn = Annotated[
    time,
    BeforeValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "examples": ["22:00"],
        }
    ),
]
LocalTimeOut = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$",
            "examples": ["22:00:00"],
            "description": "Local wall-clock time, no offset",
        }
    ),
]


class QuietHoursIn(RequestModel):
    start: LocalTimeIn = Field(description="Local time, e.g. 22:00")
    end: LocalTimeIn = Field(description="Local time; may be earlier than start (crosses midnight)")


class NotificationsPatch(RequestModel):
    enabled: StrictBool | None = None
    quiet_hours: QuietHoursIn | None = None


class ConsentsPatch(RequestModel):
    ai_features: StrictBool | None = None
    analytics: StrictBool | None = None


class MePatch(RequestModel):
    """JSON merge patch of the profile: only the fields sent change; null clears a nullable one."""

    display_name: str | None = Field(default=None, max_length=80)
    timezone: Timezone | None = Field(default=None, json_schema_extra=not_null)
    locale: str | None = Field(default=None, pattern=LOCALE_PATTERN, max_length=35)
    daily_goal_minutes: StrictInt | None = Field(
        default=None, ge=1, le=1440, json_schema_extra=not_null
    )
    notifications: NotificationsPatch | None = None
    consents: ConsentsPatch | None = None


class QuietHoursOut(ResponseModel):
    start: LocalTimeOut
    end: LocalTimeOut


class NotificationsOut(ResponseModel):
    enabled: bool
    quiet_hours: QuietHoursOut | None


class ConsentsOut(ResponseModel):
    ai_features: bool
    analytics: bool


class MeOut(ResponseModel):
    uid: str
    display_name: str | None
    timezone: str
    locale: str | None
    daily_goal_minutes: int
    notifications: NotificationsOut
    consents: ConsentsOut
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls.model_validate(user)
