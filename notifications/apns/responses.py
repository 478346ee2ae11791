"""What an APNs answer means for the push, as Apple's "Handling notification responses from
APNs" documents it: status, `reason` in the JSON body, `timestamp` on 410."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import orjson

from domain.push.model import PushOutcome, PushResult

DELIVERED = PushResult(PushOutcome.DELIVERED, status=200)
EXPIRED_PROVIDER_TOKEN = "ExpiredProviderToken"  # noqa: S105 (a reason, not a secret)
_BAD_TOKEN_REASONS = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic"})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def reason_of(body: bytes) -> tuple[str | None, int | None]:
    """The `reason` and the 410 `timestamp` (ms since the epoch) of an error body."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    reason, timestamp = parsed.get("reason"), parsed.get("timestamp")
    return (
        reason if isinstance(reason, str) else None,
        timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None,
    )


def result_of(
    status: int,
    reason: str | None,
    timestamp_ms: int | None,
    retry_after: bytes | None,
    clock: Callable[[], datetime],
) -> PushResult:
    """An answer other than 200, as an outcome. Unknown 4xx are the request's fault (never
    retried); unknown 5xx the service's (retry later)."""
    if status == 410:  # `Unregistered`, or `ExpiredToken`
        at = datetime.fromtimestamp(timestamp_ms / 1000, UTC) if timestamp_ms is not None else None
        return PushResult(PushOutcome.UNREGISTERED, reason, status, unregistered_at=at)
    if status == 400 and reason in _BAD_TOKEN_REASONS:
        return PushResult(PushOutcome.BAD_TOKEN, reason, status)
    # A new provider token was refused as expired too: our clock is off, not the push.
    retry = status in _RETRY_STATUSES or status >= 500 or reason == EXPIRED_PROVIDER_TOKEN
    if retry:
        seconds = retry_after_seconds(retry_after, clock)
        return PushResult(PushOutcome.RETRY_LATER, reason, status, retry_after_seconds=seconds)
    return PushResult(PushOutcome.REJECTED, reason, status)


def retry_after_seconds(value: bytes | None, clock: Callable[[], datetime]) -> float | None:
    """`Retry-After` as seconds from now: delay-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - clock()).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None
