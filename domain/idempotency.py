"""Idempotent retries of POST requests, with Stripe's semantics.

A key is scoped to the user and remembered for 24 hours together with a fingerprint of the
request (method, path, body) and the first response. It is stored in the same transaction as
the effect, so a crash never leaves an effect without its key, nor a key without its effect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.errors import Conflict, DomainError, ValidationFailed

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    user_id: str
    key: str
    fingerprint: str
    response: StoredResponse
    created_at: datetime


@dataclass
class IdempotencyKeyReused(DomainError):
    """The key was first used for another request (another body or path): 422."""

    code: str = "idempotency_key_reused"


def validate_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.on(
            "Idempotency-Key", "invalid_idempotency_key", "1-255 printable characters"
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Of the request as sent: `body` is its canonical form (the API sorts JSON keys), so that
    the same parameters in another order are the same request, as Stripe compares them."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def replay_or_refuse(record: IdempotencyRecord, *request_fingerprints: str) -> StoredResponse:
    """A retry of the same request gets the first response; any other use of the key is refused.

    Several fingerprints may stand for one request (its canonical form, and the raw bytes that
    keys stored before canonical forms were fingerprinted by, until those expire).
    """
    if record.fingerprint not in request_fingerprints:
        raise IdempotencyKeyReused(
            detail="this Idempotency-Key was used for a different request; use a new key"
        )
    return record.response


def in_progress() -> Conflict:
    return Conflict(
        code="idempotency_request_in_progress",
        detail="a request with this Idempotency-Key is still being processed; retry later",
    )


class IdempotencyStore(Protocol):
    async def acquire(self, user_id: str, key: str) -> bool:
        """Hold the key for this transaction; False when a concurrent request holds it."""
        ...

    async def find(
        self, user_id: str, key: str, *, not_before: datetime
    ) -> IdempotencyRecord | None: ...

    async def save(self, record: IdempotencyRecord) -> None: ...
