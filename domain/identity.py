"""Who is calling: the port through which the API learns the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `uid` is the Firebase uid: the user's key forever."""

    uid: str
    anonymous: bool = False


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
