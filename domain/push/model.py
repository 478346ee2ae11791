"""A silent push and what a push service answered.

A silent push carries no alert: it wakes the app, which syncs. Its data is small (the kind of
push and the user's version at send time), so a lost or coalesced push loses nothing: the
next sync fetches the latest state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.devices.model import ApnsEnvironment, Platform

MAX_PAYLOAD_BYTES = 4096
"""APNs' limit for a background notification and FCM's for a data message."""


class PushKind(StrEnum):
    SYNC = "sync"
    """Something the device applies changed (a schedule, a blocklist): sync now."""
    FOCUS = "focus"
    """A focus session started or ended on another device: mirror it."""
    PRIVACY = "privacy"
    """A data request of the user's changed (an export is ready): `GET` it."""
    INSIGHT = "insight"
    """A new insight or schedule suggestion: sync, then show it (`GET /v1/insights`)."""


@dataclass(frozen=True, slots=True)
class SilentPush:
    token: str
    platform: Platform
    apns_environment: ApnsEnvironment | None
    """iOS only: which APNs host the token belongs to."""
    collapse_id: str
    """Pushes with the same id replace each other while undelivered (APNs ≤ 64 bytes)."""
    data: Mapping[str, str]
    """App data; strings only, as FCM data messages require."""
    expires_at: datetime
    """After this instant the push service drops it instead of delivering it late."""
    urgent: bool = False
    """Android: high priority (wakes the device from Doze). APNs background pushes are always 5."""


class PushOutcome(StrEnum):
    DELIVERED = "delivered"
    """Accepted by APNs / FCM."""
    UNREGISTERED = "unregistered"
    """The token is no longer valid (APNs 410 `Unregistered`, FCM `UNREGISTERED`)."""
    BAD_TOKEN = "bad_token"  # noqa: S105 (an outcome, not a secret)
    """APNs `BadDeviceToken`: often a sandbox token sent to production or the reverse."""
    RETRY_LATER = "retry_later"
    """Throttled or unavailable (429, 5xx, `QUOTA_EXCEEDED`, `UNAVAILABLE`, connection lost)."""
    REJECTED = "rejected"
    """The request itself is wrong (payload too large, bad topic, …): never retried."""


@dataclass(frozen=True, slots=True)
class PushResult:
    outcome: PushOutcome
    reason: str | None = None
    """The service's reason (`Unregistered`, `QUOTA_EXCEEDED`, …), for logs and metrics."""
    status: int | None = None
    retry_after_seconds: float | None = None
    """From a `Retry-After` header (or FCM's retry info), when the service gave one."""
    unregistered_at: datetime | None = None
    """APNs 410: when Apple last knew the token valid (the response's `timestamp`)."""
