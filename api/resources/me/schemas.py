from __future__ import annotations

from datetime import time

from pydantic import Field

from api.schemas import RequestModel, ResponseModel, StrictBool, StrictInt, UtcDatetime
from domain.users.model import User

LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class QuietHoursIn(RequestModel):
    start: time = Field(description="Local time, e.g. 22:00")
    end: time = Field(description="Local time; may be earlier than start (crosses midnight)")


class NotificationsPatch(RequestModel):
    enabled: StrictBool | None = None
    quiet_hours: QuietHoursIn | None = None


class ConsentsPatch(RequestModel):
    ai_features: StrictBool | None = None
    analytics: StrictBool | None = None


class MePatch(RequestModel):
    """JSON merge patch of the profile: only the fields sent change; null clears a nullable one."""

    display_name: str | None = Field(default=None, max_length=80)
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])
    locale: str | None = Field(default=None, pattern=LOCALE_PATTERN, max_length=35)
    daily_goal_minutes: StrictInt | None = Field(default=None, ge=1, le=1440)
    notifications: NotificationsPatch | None = None
    consents: ConsentsPatch | None = None


class QuietHoursOut(ResponseModel):
    start: time
    end: time


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
