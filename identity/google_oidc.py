"""Google-signed OIDC tokens of Pub/Sub push subscriptions and Cloud Tasks.

Pub/Sub and Cloud Tasks sign a token for the service account named in the subscription or
task, with the audience we configured. We check, as Google documents: the signature against
Google's published keys, the issuer, the audience, the expiry, and that the token speaks for
our invoker service account with a verified email. Anything else that reaches the endpoint
(another project's subscription, someone else's service account) is refused.
"""

from __future__ import annotations

import jwt

from domain.errors import Forbidden, Unauthenticated
from identity.key_sets import KeySet

GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
LEEWAY_SECONDS = 30
"""Clock skew tolerated on exp / iat / nbf between Google and us."""


class GoogleOidcVerifier:
    def __init__(
        self,
        audience: str,
        service_account_email: str,
        *,
        jwks_url: str = GOOGLE_JWKS_URL,
        fetch_timeout_seconds: float = 5.0,
    ) -> None:
        self._audience = audience
        self._email = service_account_email
        self._keys = KeySet(jwks_url, owner="Google", timeout_seconds=fetch_timeout_seconds)

    async def verify(self, token: str) -> None:
        try:
            claims = jwt.decode(
                token,
                await self._keys.key_for(token),
                algorithms=["RS256"],
                audience=self._audience,
                issuer=GOOGLE_ISSUERS,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "email"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated(code="token_expired", detail=str(error)) from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(code="token_invalid", detail=str(error)) from error
        if claims.get("email") != self._email:
            raise Forbidden(code="caller_not_allowed", detail="not the invoker service account")
        if claims.get("email_verified") is not True:
            raise Forbidden(code="email_not_verified", detail="the caller's email is unverified")
