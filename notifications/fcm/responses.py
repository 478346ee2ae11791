"""What an FCM HTTP v1 answer means for us, as Google documents it:
https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode

A token is only given up on an explicit verdict about the token (`UNREGISTERED`,
`SENDER_ID_MISMATCH`, an `INVALID_ARGUMENT` naming `message.token`): a bare 404 or 403 may as
well mean a wrong project id or a service account without the permission, and treating those
as verdicts would unregister every device at once.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.push.model import PushOutcome, PushResult

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"

GONE_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
"""SENDER_ID_MISMATCH: the token belongs to another Firebase project; it will never work here."""
TRANSIENT_CODES = frozenset({"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"})
PUSH_CREDENTIAL_CODES = frozenset({"THIRD_PARTY_AUTH_ERROR", "APNS_AUTH_ERROR"})
"""The APNs key or certificate uploaded to Firebase is wrong: ours to fix in the console."""
INVALID_REGISTRATION = "InvalidRegistration"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


@dataclass(frozen=True, slots=True)
class FcmError:
    code: str
    """The FcmError `errorCode`, else the google.rpc `status`, else `HTTP_<status>`."""
    message: str
    names_token: bool
    """A field violation (or the message) says the registration token is malformed."""
    retry_delay_seconds: float | None
    """From a google.rpc.RetryInfo detail."""


def read_answer(status: int, headers: Mapping[str, str], body: bytes, now: datetime) -> PushResult:
    if 200 <= status < 300:
        return PushResult(PushOutcome.DELIVERED, status=status)
    error = read_error(status, body)
    if error.code in GONE_TOKEN_CODES:
        return PushResult(PushOutcome.UNREGISTERED, reason=error.code, status=status)
    if status == 400 and error.names_token:
        return PushResult(PushOutcome.UNREGISTERED, reason=INVALID_REGISTRATION, status=status)
    if error.code in TRANSIENT_CODES or status in (408, 429) or status >= 500:
        retry_after = retry_after_seconds(headers.get("retry-after"), now)
        if retry_after is None:
            retry_after = error.retry_delay_seconds
        return PushResult(
            PushOutcome.RETRY_LATER,
            reason=error.code,
            status=status,
            retry_after_seconds=retry_after,
        )
    if status == 401 and error.code not in PUSH_CREDENTIAL_CODES:
        # Our access token was refused (revoked, clock skew): a new one may well work.
        return PushResult(PushOutcome.RETRY_LATER, reason=error.code, status=status)
    return PushResult(PushOutcome.REJECTED, reason=error.code, status=status)


def read_error(status: int, body: bytes) -> FcmError:
    """Google's error JSON; whatever is missing (a proxy's HTML page) degrades to the status."""
    error = _error_object(body)
    details = [d for d in _list(error.get("details")) if isinstance(d, dict)]
    fcm_codes = [d.get("errorCode") for d in details if d.get("@type") == FCM_ERROR]
    code = next((c for c in fcm_codes if isinstance(c, str)), None)
    rpc_status = error.get("status")
    message = error.get("message")
    message = message if isinstance(message, str) else ""
    return FcmError(
        code=code or (rpc_status if isinstance(rpc_status, str) else f"HTTP_{status}"),
        message=message,
        names_token=_names_token(details, message),
        retry_delay_seconds=_retry_delay(details),
    )


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (at - now).total_seconds())


def _error_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names_token(details: list[dict[str, Any]], message: str) -> bool:
    for detail in details:
        if detail.get("@type") != BAD_REQUEST:
            continue
        for violation in _list(detail.get("fieldViolations")):
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                return True
    # FCM's wording when the token is not one it ever issued.
    return "registration token" in message.lower()


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    for detail in details:
        delay = detail.get("retryDelay") if detail.get("@type") == RETRY_INFO else None
        match = _DURATION.match(delay) if isinstance(delay, str) else None
        if match:
            return float(match.group(1))
    return None
