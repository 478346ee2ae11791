"""Staff identity on the embedded dev setup: HS256 staff tokens from the dev issuer's secret.

A staff token has its own audience (`focus-dev-staff`) and type (`staff`), so an app user's dev
token is never a staff token, nor a staff token an app user's. The console sends it where IAP
puts its assertion (`x-goog-iap-jwt-assertion`), so that it runs the same way in both places.
Never for production: the settings refuse it there (`app.settings.check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import jwt

from domain.errors import Unauthenticated, ValidationFailed
from domain.staff import StaffPrincipal, normalise_email
from identity.dev_issuer import CLOCK_SKEW_SECONDS, SECRET_BYTES
from identity.iap import assertion

STAFF_AUDIENCE = "focus-dev-staff"
STAFF_TYPE = "staff"


class DevStaffTokens:
    """Issues and verifies dev staff tokens. Implements `domain.staff.StaffVerifier`."""

    def __init__(self, secret: bytes, *, issuer: str = "focus-dev") -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError(f"dev token secret must be at least {SECRET_BYTES} bytes")
        self._secret = secret
        self._issuer = issuer

    def issue(self, email: str, *, ttl: timedelta = timedelta(hours=8)) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "aud": STAFF_AUDIENCE,
            "sub": normalise_email(email),
            "email": normalise_email(email),
            "typ": STAFF_TYPE,
            "iat": now,
            "exp": now + ttl,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    async def verify(self, headers: Mapping[str, str]) -> StaffPrincipal:
        token = assertion(headers)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=STAFF_AUDIENCE,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "sub", "iat", "exp", "email", "typ"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(code="token_expired", detail=str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(code="token_invalid", detail=str(exc)) from exc
        if claims["typ"] != STAFF_TYPE or not isinstance(claims["email"], str):
            raise Unauthenticated(code="token_invalid", detail="not a staff token")
        try:
            return StaffPrincipal(email=normalise_email(claims["email"]))
        except ValidationFailed as exc:
            raise Unauthenticated(code="token_invalid", detail="not a staff token") from exc
