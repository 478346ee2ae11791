"""Which changes wake which devices, and the silent push each gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.devices.model import Device
from domain.events import DomainEvent, EventType
from domain.push.model import PushKind, SilentPush

SILENT_PUSHES: Mapping[EventType, PushKind | None] = {
    EventType.SCHEDULE_CREATED: PushKind.SYNC,
    EventType.SCHEDULE_UPDATED: PushKind.SYNC,
    EventType.SCHEDULE_DELETED: PushKind.SYNC,
    EventType.BLOCKLIST_CREATED: PushKind.SYNC,
    EventType.BLOCKLIST_UPDATED: PushKind.SYNC,
    EventType.BLOCKLIST_DELETED: PushKind.SYNC,
    EventType.SYNC_REQUESTED: PushKind.SYNC,
    EventType.FOCUS_SESSION_STARTED: PushKind.FOCUS,
    EventType.FOCUS_SESSION_COMPLETED: PushKind.FOCUS,
    EventType.FOCUS_SESSION_ABANDONED: PushKind.FOCUS,
    EventType.PRIVACY_EXPORT_READY: PushKind.PRIVACY,
    EventType.PRIVACY_REQUEST_EXTENDED: PushKind.PRIVACY,
    EventType.INSIGHT_CREATED: PushKind.INSIGHT,
    EventType.INSIGHT_DISMISSED: PushKind.SYNC,
    # The schedule an accepted suggestion creates wakes the other devices (schedule.created).
    EventType.INSIGHT_ACCEPTED: None,
    # Nothing another device applies or mirrors: its next sync brings these.
    EventType.PROFILE_UPDATED: None,
    EventType.DEVICE_REGISTERED: None,
    EventType.DEVICE_UPDATED: None,
    EventType.DEVICE_REMOVED: None,
    EventType.DEVICE_PUSH_TOKEN_REVOKED: None,
    EventType.USAGE_REPORTED: None,
}
"""The silent push each event type sends, or None: every declared type is named here, so a
new type is a decision (tests/unit/test_push_policy.py fails while one is missing)."""


def push_kind(event_type: EventType) -> PushKind | None:
    """The silent push an event of this type sends (None: it wakes no device)."""
    return SILENT_PUSHES[event_type]


@dataclass(frozen=True, slots=True)
class PushPolicy:
    sync_ttl: timedelta = timedelta(hours=6)
    """A schedule change still matters hours later."""
    focus_ttl: timedelta = timedelta(minutes=15)
    """Mirroring a focus session that long over is pointless: the next sync shows it."""


def recipients(event: DomainEvent, devices: list[Device]) -> list[Device]:
    """The user's devices that can be reached, except the one that made the change."""
    return [
        device
        for device in devices
        if device.push_token is not None and device.installation_id != event.origin_installation_id
    ]


def still_holding(device: Device, holders: Sequence[Device]) -> bool:
    """False when another device holds the same token and was seen after this one.

    Registration takes a token from every other device, but a token can still sit on two
    (registered before that rule, or written by another path): the device seen last owns it,
    and a user it no longer belongs to is never woken through it.
    """
    return not any(
        other.push_token == device.push_token
        and (other.user_id, other.installation_id) != (device.user_id, device.installation_id)
        and other.last_seen_at > device.last_seen_at
        for other in holders
    )


def silent_push(
    device: Device, kind: PushKind, version: int, now: datetime, policy: PushPolicy
) -> SilentPush:
    """`data` tells the app why it woke and the version to sync to at least."""
    assert device.push_token is not None
    ttl = policy.focus_ttl if kind is PushKind.FOCUS else policy.sync_ttl
    return SilentPush(
        token=device.push_token,
        platform=device.platform,
        apns_environment=device.apns_environment,
        # One collapse id per kind: an undelivered push is replaced by a newer one.
        collapse_id=f"focus-{kind}",
        data={"kind": kind.value, "version": str(version)},
        expires_at=now + ttl,
        urgent=kind is PushKind.FOCUS,
    )
