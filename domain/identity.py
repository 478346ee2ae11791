"""Who is calling: the port through which the API learns the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.errors import Unauthenticated


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `uid` is the Firebase uid: the user's key forever."""

    uid: str
    anonymous: bool = False
    auth_time: datetime | None = None
    """When the user last signed in (entered credentials), not when this token was minted:
    Firebase refreshes ID tokens hourly and carries `auth_time` over. None: not known."""


@dataclass
class RecentSignInRequired(Unauthenticated):
    """A destructive account action needs a sign-in within the last `max_age_seconds`."""

    code: str = "recent_sign_in_required"
    max_age_seconds: int = 300


class TokenVerifier(Protocol):
    """Turns a bearer token into a `Principal`.

    Raises `domain.errors.Unauthenticated` for any token that must be refused and
    `domain.errors.AuthUnavailable` when tokens cannot be checked at all (never a bypass).
    `check_revoked` asks for the slower check that the token was not revoked and the
    user not disabled; the API asks for it on sensitive routes.
    """

    async def verify(self, token: str, *, check_revoked: bool = False) -> Principal: ...


class ServiceTokenVerifier(Protocol):
    """Checks the token a Google service (Pub/Sub push, Cloud Tasks) sends to our internal
    endpoints: signed by Google for our audience, on behalf of the one service account
    allowed to call them.

    Raises `Unauthenticated` (no valid token), `Forbidden` (valid, but another caller) or
    `AuthUnavailable` (Google's keys cannot be fetched).
    """

    async def verify(self, token: str) -> None: ...


class AppCheckVerifier(Protocol):
    """Checks a Firebase App Check token (`X-Firebase-AppCheck`): the request comes from our
    genuine app on a genuine device, as attested by App Attest / Play Integrity.

    Returns the app id the token was issued to. Raises `Forbidden` for a token that must be
    refused and `AuthUnavailable` when App Check's keys cannot be fetched.
    """

    async def verify(self, token: str) -> str: ...
