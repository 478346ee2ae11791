"""`users/{uid}/devices/{installationId}` ↔ Device."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.devices.model import (
    ApnsEnvironment,
    Device,
    DeviceRegistration,
    Platform,
    validate_installation_id,
    validate_registration,
)
from domain.errors import ValidationFailed
from migration.firestore.layout import DEVICES, QuarantineReason
from migration.firestore.mapping.common import (
    MappingContext,
    Unmappable,
    backend_fields,
    check_not_orphan,
    note_unknown,
    optional_instant,
    stamps,
    valid_timezone,
    version_of,
)

KNOWN = (
    "platform",
    "pushToken",
    "apnsEnvironment",
    "appVersion",
    "osVersion",
    "timezone",
    "lastSeenAt",
    "createdAt",
    "updatedAt",
)
UNKNOWN_APP_VERSION = "0.0.0"
"""Older than any minimum: the force-upgrade signal applies."""


def from_document(
    uid: str,
    doc_id: str,
    data: dict[str, Any],
    *,
    create_time: dt.datetime,
    update_time: dt.datetime,
    context: MappingContext,
) -> Device:
    check_not_orphan(context)
    try:
        installation_id = validate_installation_id(doc_id)
    except ValidationFailed as exc:
        raise Unmappable(QuarantineReason.INVALID_ID, "installationId") from exc
    platform = _platform(data.get("platform"))
    note_unknown(data, KNOWN, context, DEVICES)
    created_at, updated_at = stamps(data, context, DEVICES, create_time, update_time)
    push_token = _push_token(platform, data.get("pushToken"), context)
    app_version = data.get("appVersion")
    os_version = data.get("osVersion")
    return Device(
        user_id=uid,
        installation_id=installation_id,
        platform=platform,
        push_token=push_token,
        apns_environment=_apns_environment(platform, push_token, data.get("apnsEnvironment")),
        app_version=app_version if isinstance(app_version, str) else UNKNOWN_APP_VERSION,
        os_version=os_version if isinstance(os_version, str) else None,
        timezone=valid_timezone(data.get("timezone")),
        last_seen_at=optional_instant(data, "lastSeenAt", context, DEVICES) or updated_at,
        version=version_of(data),
        created_at=created_at,
        updated_at=updated_at,
    )


def to_document(device: Device) -> dict[str, Any]:
    environment = device.apns_environment
    return {
        "platform": device.platform.value,
        "pushToken": device.push_token,
        "apnsEnvironment": environment.value if environment else None,
        "appVersion": device.app_version,
        "osVersion": device.os_version,
        "timezone": device.timezone,
        "lastSeenAt": device.last_seen_at,
        "createdAt": device.created_at,
        "updatedAt": device.updated_at,
        **backend_fields(device.version),
    }


def _platform(value: Any) -> Platform:
    if value is None:
        raise Unmappable(QuarantineReason.MISSING_REQUIRED, "platform")
    if not isinstance(value, str):
        raise Unmappable(QuarantineReason.WRONG_TYPE, "platform")
    try:
        return Platform(value.lower())
    except ValueError as exc:
        raise Unmappable(QuarantineReason.INVALID_VALUE, "platform") from exc


def _push_token(platform: Platform, value: Any, context: MappingContext) -> str | None:
    """Checked as a registration is; a bad one is dropped (the app registers it again)."""
    if value is None:
        return None
    if isinstance(value, str):
        registration = DeviceRegistration(
            platform=platform,
            app_version=UNKNOWN_APP_VERSION,
            push_token=value,
            apns_environment=ApnsEnvironment.PRODUCTION if platform is Platform.IOS else None,
        )
        try:
            validate_registration(registration)
            return value
        except ValidationFailed:
            pass
    context.note(f"{DEVICES}.pushToken:unmappable")
    return None


def _apns_environment(
    platform: Platform, push_token: str | None, value: Any
) -> ApnsEnvironment | None:
    if platform is not Platform.IOS:
        return None
    if isinstance(value, str) and value in {e.value for e in ApnsEnvironment}:
        return ApnsEnvironment(value)
    return ApnsEnvironment.PRODUCTION if push_token is not None else None
