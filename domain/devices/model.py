"""A user's app installations and how to reach them with a push."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import LimitExceeded, ValidationFailed

MAX_DEVICES_PER_USER = 20

# Patterns are used with `fullmatch`: `$` would also match before a final newline.
INSTALLATION_ID_PATTERN = r"[A-Za-z0-9._:-]{8,128}"
_INSTALLATION_ID = re.compile(INSTALLATION_ID_PATTERN)
# APNs device tokens are 32 bytes today, sent as hex; Apple says not to hard-code the length.
_APNS_TOKEN = re.compile(r"[0-9a-fA-F]{64,200}")
# FCM registration tokens: URL-safe base64 with a `:` separator, typically 140-250 characters.
_FCM_TOKEN = re.compile(r"[A-Za-z0-9_:\-]{100,4096}")


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"


class ApnsEnvironment(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class Device:
    user_id: str
    installation_id: str
    platform: Platform
    push_token: str | None
    apns_environment: ApnsEnvironment | None
    app_version: str
    os_version: str | None
    timezone: str | None
    last_seen_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceRegistration:
    """What a client sends when it (re)registers an installation."""

    platform: Platform
    app_version: str
    push_token: str | None = None
    apns_environment: ApnsEnvironment | None = None
    os_version: str | None = None
    timezone: str | None = None


def validate_installation_id(installation_id: str) -> str:
    if not _INSTALLATION_ID.fullmatch(installation_id):
        raise ValidationFailed.on(
            "installation_id",
            "invalid_installation_id",
            "8-128 characters of letters, digits, '.', '_', ':' or '-'",
        )
    return installation_id


def validate_registration(reg: DeviceRegistration) -> DeviceRegistration:
    """Push tokens must match their platform; the APNs environment only makes sense on iOS."""
    if reg.platform is Platform.IOS:
        if reg.push_token is not None and not _APNS_TOKEN.fullmatch(reg.push_token):
            raise ValidationFailed.on(
                "push_token", "invalid_push_token", "an APNs device token is hexadecimal"
            )
        if reg.push_token is not None and reg.apns_environment is None:
            raise ValidationFailed.on(
                "apns_environment", "required", "iOS push tokens need their APNs environment"
            )
    else:
        if reg.push_token is not None and not _FCM_TOKEN.fullmatch(reg.push_token):
            raise ValidationFailed.on(
                "push_token", "invalid_push_token", "not an FCM registration token"
            )
        if reg.apns_environment is not None:
            raise ValidationFailed.on(
                "apns_environment", "not_allowed", "only iOS devices have an APNs environment"
            )
    return reg


def check_device_cap(active_devices: int) -> None:
    if active_devices >= MAX_DEVICES_PER_USER:
        raise LimitExceeded(
            code="too_many_devices",
            detail=f"at most {MAX_DEVICES_PER_USER} devices per user; remove one first",
        )
