"""Firebase App Check tokens (`X-Firebase-AppCheck`), checked as Firebase documents.

An App Check token is an RS256 JWT that Firebase signs once the device has attested the app
(App Attest / DeviceCheck on iOS, Play Integrity on Android). We check what Firebase's guide
for custom backends lists: the signature against App Check's published keys (`kid`), `typ`
JWT, the issuer `https://firebaseappcheck.googleapis.com/<project number>`, an audience naming
our project, the expiry and a subject (the app id). firebase-admin's `app_check` does the same
with a hard-coded key URL and a looser issuer check (any App Check issuer): ADR 0013.
"""

from __future__ import annotations

import jwt

from domain.errors import Forbidden
from identity.key_sets import KeySet

APP_CHECK_JWKS_URL = "https://firebaseappcheck.googleapis.com/v1/jwks"
ISSUER_BASE = "https://firebaseappcheck.googleapis.com/"
LEEWAY_SECONDS = 30
"""Clock skew tolerated on exp / iat between Firebase and us."""
KEYS_LIFESPAN_SECONDS = 6 * 3600
"""Firebase rotates App Check keys and asks backends to cache them for up to 6 hours."""


class FirebaseAppCheckVerifier:
    """Implements `domain.identity.AppCheckVerifier` for one Firebase project."""

    def __init__(
        self,
        project_number: str,
        project_id: str,
        *,
        jwks_url: str = APP_CHECK_JWKS_URL,
        fetch_timeout_seconds: float = 5.0,
    ) -> None:
        self._issuer = ISSUER_BASE + project_number
        self._audiences = [f"projects/{project_number}", f"projects/{project_id}"]
        self._keys = KeySet(
            jwks_url,
            owner="App Check",
            timeout_seconds=fetch_timeout_seconds,
            lifespan_seconds=KEYS_LIFESPAN_SECONDS,
        )

    async def verify(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Forbidden(code="app_check_invalid", detail="not a JWT") from error
        if header.get("typ") != "JWT" or header.get("alg") != "RS256":
            raise Forbidden(code="app_check_invalid", detail="not an App Check token")
        try:
            claims = jwt.decode(
                token,
                await self._keys.key_for(token),
                algorithms=["RS256"],
                audience=self._audiences,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise Forbidden(code="app_check_invalid", detail=str(error)) from error
        app_id = claims.get("sub")
        if not isinstance(app_id, str) or not app_id:
            raise Forbidden(code="app_check_invalid", detail="no app id (sub)")
        return app_id
