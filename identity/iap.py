"""Google Identity-Aware Proxy's signed header: who the staff API's caller is in production.

IAP signs, for every request it lets through, a JWT in `x-goog-iap-jwt-assertion` (ES256,
issuer `https://cloud.google.com/iap`, audience the backend service's). We check it as Google
documents: the signature against IAP's published keys, the issuer, the audience, the expiry
and the issue time. Without it, or with a forged, expired or foreign one, nobody is a staff
member: a request that reached the service around the proxy proves nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import jwt

from domain.errors import Unauthenticated, ValidationFailed
from domain.staff import StaffPrincipal, normalise_email
from identity.key_sets import KeySet

IAP_HEADER = "x-goog-iap-jwt-assertion"
IAP_ISSUER = "https://cloud.google.com/iap"
IAP_JWKS_URL = "https://www.gstatic.com/iap/verify/public_key-jwk"
LEEWAY_SECONDS = 30
"""Clock skew tolerated on exp / iat between Google and us."""


def assertion(headers: Mapping[str, str]) -> str:
    """The signed assertion the staff API's caller sent (IAP's header)."""
    token = (headers.get(IAP_HEADER) or "").strip()
    if not token:
        raise Unauthenticated(code="assertion_missing", detail=f"no {IAP_HEADER} header")
    return token


class IapVerifier:
    """Implements `domain.staff.StaffVerifier` for requests that came through IAP."""

    def __init__(
        self, audience: str, *, jwks_url: str = IAP_JWKS_URL, fetch_timeout_seconds: float = 5.0
    ) -> None:
        self._audience = audience
        self._keys = KeySet(jwks_url, owner="Google IAP", timeout_seconds=fetch_timeout_seconds)

    async def verify(self, headers: Mapping[str, str]) -> StaffPrincipal:
        token = assertion(headers)
        try:
            claims = jwt.decode(
                token,
                await self._keys.key_for(token),
                algorithms=["ES256"],
                audience=self._audience,
                issuer=IAP_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "email"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated(code="token_expired", detail=str(error)) from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(code="token_invalid", detail=str(error)) from error
        return StaffPrincipal(email=_email(claims.get("email")))


def _email(claim: object) -> str:
    no_email = Unauthenticated(code="token_invalid", detail="the assertion names no email")
    if not isinstance(claim, str):
        raise no_email
    # IAP's headers prefix the identity's provider (`accounts.google.com:`); the claim may too.
    _, _, email = claim.rpartition(":")
    try:
        return normalise_email(email)
    except ValidationFailed as error:
        raise no_email from error
