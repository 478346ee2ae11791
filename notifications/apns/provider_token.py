"""The provider authentication token: an ES256 JWT signed with the team's .p8 key.

APNs refuses a token refreshed more often than every 20 minutes (`TooManyProviderTokenUpdates`)
and one older than an hour (`ExpiredProviderToken`), so one token is shared by every request and
replaced once it is `refresh_after` old, or when APNs says it expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

log = logging.getLogger("notifications.apns")


class ProviderToken:
    def __init__(
        self,
        *,
        key_id: str,
        team_id: str,
        private_key_pem: str,
        clock: Callable[[], datetime],
        refresh_after: timedelta = timedelta(minutes=40),
    ) -> None:
        key = load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("an APNs signing key is a P-256 (ES256) key")
        self._key, self._key_id, self._team_id = key, key_id, team_id
        self._clock, self._refresh_after = clock, refresh_after
        self._authorization = b""
        self._renew_at: datetime | None = None

    def authorization(self) -> bytes:
        """The `authorization` header value (`bearer <jwt>`), a new token when it is due."""
        if self._renew_at is None or self._clock() >= self._renew_at:
            self._issue()
        return self._authorization

    def renew(self, refused: bytes) -> bytes:
        """A new token after APNs called `refused` expired, unless another request already
        replaced it (many requests in flight get the same answer: one new token is enough)."""
        if refused == self._authorization:
            self._issue()
        return self._authorization

    def _issue(self) -> None:
        now = self._clock()
        token = jwt.encode(
            {"iss": self._team_id, "iat": int(now.timestamp())},
            self._key,
            algorithm="ES256",
            headers={"kid": self._key_id, "typ": None},  # Apple's header: alg and kid only
        )
        self._authorization = b"bearer " + token.encode()
        self._renew_at = now + self._refresh_after
        log.info("notifications.apns.provider_token_issued", extra={"key_id": self._key_id})
