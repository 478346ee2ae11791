"""`TokenVerifier` backed by Firebase Auth.

Talks to the Auth emulator instead when FIREBASE_AUTH_EMULATOR_HOST is set (tests, local dev).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any, NoReturn

import anyio.to_thread
import firebase_admin
import google.auth.exceptions
import jwt
from firebase_admin import auth
from firebase_admin import exceptions as firebase_exceptions

from domain.errors import AuthUnavailable, Unauthenticated
from domain.identity import Principal

EMULATOR_HOST_ENV = "FIREBASE_AUTH_EMULATOR_HOST"
# Tolerated difference between our clock and Google's when checking iat/exp.
CLOCK_SKEW_SECONDS = 5


class FirebaseTokenVerifier:
    """Verifies Firebase ID tokens for one project.

    `timeout_seconds` becomes firebase-admin's `httpTimeout`, the connect and read timeout of
    each HTTP request it makes for us (Google's signing certificates, the user lookup of
    `check_revoked`). Its own default is 120 s, far too long to hold an API request.
    """

    def __init__(
        self, project_id: str, *, app_name: str = "focus-auth", timeout_seconds: float = 5.0
    ) -> None:
        self._app = _named_app(app_name, project_id, timeout_seconds)
        # firebase-admin decides per call whether it talks to the emulator, and emulator tokens
        # are unsigned: pin the mode now so a variable that appears later cannot disable checks.
        self._emulator_host = os.environ.get(EMULATOR_HOST_ENV, "")

    async def verify(self, token: str, *, check_revoked: bool = False) -> Principal:
        _require_jwt_shape(token)
        if os.environ.get(EMULATOR_HOST_ENV, "") != self._emulator_host:
            raise AuthUnavailable(detail=f"{EMULATOR_HOST_ENV} changed after start")
        # firebase-admin blocks on HTTP (certificates, user lookup): keep it off the event loop.
        claims = await anyio.to_thread.run_sync(self._verify_blocking, token, check_revoked)
        _require_current(claims)
        return Principal(
            uid=str(claims["uid"]),
            anonymous=_signed_in_anonymously(claims),
            auth_time=_auth_time(claims),
        )

    def _verify_blocking(self, token: str, check_revoked: bool) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = auth.verify_id_token(
                token,
                app=self._app,
                check_revoked=check_revoked,
                clock_skew_seconds=CLOCK_SKEW_SECONDS,
            )
        except Exception as exc:  # mapped to a domain error or re-raised, never swallowed
            _raise_domain_error(exc)
        return claims


def _named_app(name: str, project_id: str, timeout_seconds: float) -> firebase_admin.App:
    try:
        app = firebase_admin.get_app(name)
    except ValueError:
        # No credential given: firebase-admin then loads Application Default Credentials
        # lazily, on first use, and never against the emulator (it uses a fake one there).
        return firebase_admin.initialize_app(
            options={"projectId": project_id, "httpTimeout": timeout_seconds}, name=name
        )
    if app.options.get("projectId") != project_id:
        raise ValueError(f"Firebase app {name!r} already exists for another project")
    return app


def _require_jwt_shape(token: str) -> None:
    try:
        jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated(code="token_malformed", detail="not a JWT") from exc


def _require_current(claims: dict[str, Any]) -> None:
    """Check exp and iat ourselves: firebase-admin skips both for emulator tokens."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise Unauthenticated(code="token_invalid", detail="exp or iat missing")
    now = time.time()
    if exp < now - CLOCK_SKEW_SECONDS:
        raise Unauthenticated(code="token_expired", detail="token expired")
    if iat > now + CLOCK_SKEW_SECONDS:
        raise Unauthenticated(code="token_invalid", detail="token issued in the future")


def _auth_time(claims: dict[str, Any]) -> datetime | None:
    """When the user signed in: Firebase's `auth_time` claim (seconds since the epoch)."""
    value = claims.get("auth_time")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(value, UTC)


def _signed_in_anonymously(claims: dict[str, Any]) -> bool:
    firebase_claims = claims.get("firebase")
    if not isinstance(firebase_claims, dict):
        return False
    return firebase_claims.get("sign_in_provider") == "anonymous"


def _raise_domain_error(exc: Exception) -> NoReturn:
    """Translate a firebase-admin failure; the most specific exception classes come first."""
    match exc:
        case auth.ExpiredIdTokenError():
            raise Unauthenticated(code="token_expired", detail="token expired") from exc
        case auth.RevokedIdTokenError():
            raise Unauthenticated(code="token_revoked", detail="token revoked") from exc
        case auth.UserNotFoundError():
            raise Unauthenticated(code="token_revoked", detail="user no longer exists") from exc
        case auth.UserDisabledError():
            raise Unauthenticated(code="user_disabled", detail="user disabled") from exc
        case auth.InvalidIdTokenError():
            # firebase-admin's message (which names the expected project) stays in the chain.
            raise Unauthenticated(code="token_invalid", detail="token not valid here") from exc
        case auth.CertificateFetchError():
            raise AuthUnavailable(detail=f"cannot fetch signing certificates: {exc}") from exc
        case firebase_exceptions.FirebaseError() | google.auth.exceptions.GoogleAuthError():
            # Firebase unreachable, or no credentials in production: tokens cannot be checked.
            raise AuthUnavailable(detail=str(exc)) from exc
    raise exc
