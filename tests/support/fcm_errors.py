"""FCM HTTP v1 error answers as Google documents them, for the fake FCM to send.

https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode: the HTTP status, the
google.rpc status, and an `FcmError` detail carrying FCM's own code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer in Google's shape (`{"error": {code, message, status, details}}`)."""

    status: int
    rpc_status: str
    message: str
    error_code: str | None = None
    """The FcmError detail's `errorCode`; None sends no FcmError detail at all."""
    retry_after: str | None = None
    """A `Retry-After` header, as sent (seconds or an HTTP date)."""
    details: tuple[Mapping[str, Any], ...] = ()
    """More details after the FcmError one (BadRequest, RetryInfo)."""

    def body(self) -> bytes:
        details = [{"@type": FCM_ERROR, "errorCode": self.error_code}] if self.error_code else []
        error = {
            "code": self.status,
            "message": self.message,
            "status": self.rpc_status,
            "details": [*details, *self.details],
        }
        return json.dumps({"error": error}).encode()

    def with_retry_after(self, value: str) -> Failure:
        return replace(self, retry_after=value)

    def with_retry_info(self, delay: str) -> Failure:
        return replace(self, details=(*self.details, {"@type": RETRY_INFO, "retryDelay": delay}))


UNREGISTERED = Failure(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
INVALID_TOKEN = Failure(
    400,
    "INVALID_ARGUMENT",
    "The registration token is not a valid FCM registration token",
    "INVALID_ARGUMENT",
    details=(
        {
            "@type": BAD_REQUEST,
            "fieldViolations": [
                {
                    "field": "message.token",
                    "description": "The registration token is not a valid FCM registration token",
                }
            ],
        },
    ),
)
INVALID_ARGUMENT = Failure(
    400, "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'", "INVALID_ARGUMENT"
)
SENDER_ID_MISMATCH = Failure(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")
QUOTA_EXCEEDED = Failure(
    429, "RESOURCE_EXHAUSTED", "Message rate exceeded for this device.", "QUOTA_EXCEEDED"
)
UNAVAILABLE = Failure(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")
INTERNAL = Failure(500, "INTERNAL", "Internal error encountered.", "INTERNAL")
THIRD_PARTY_AUTH_ERROR = Failure(
    401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"
)
UNAUTHENTICATED = Failure(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.",
)
NOT_FOUND = Failure(404, "NOT_FOUND", "Requested entity was not found.")
