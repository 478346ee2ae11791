"""Dependencies every route uses, as `Annotated` aliases.

Each reads what it needs from the request itself rather than from other dependencies: FastAPI
solves every dependency on every request, and the hot reads pay for each one (bench/).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from api.rate_limits.limiter import SAFE_METHODS, Scope, kind_of
from api.services import ApiServices
from domain.devices.model import validate_installation_id
from domain.errors import Unauthenticated, ValidationFailed
from domain.identity import Principal, RecentSignInRequired
from domain.unit_of_work import UnitOfWork
from domain.users import use_cases as users

BEARER_SCHEME = "FirebaseIdToken"
"""The OpenAPI security scheme every versioned route declares (api/openapi.py)."""


async def services(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found


Services = Annotated[ApiServices, Depends(services)]


def _token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            code="token_missing", detail="send 'Authorization: Bearer <ID token>'"
        )
    return token.strip()


class KnownUsers:
    """Uids whose row exists, so that the first-call upsert costs one query per process."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._seen: set[str] = set()
        self._capacity = capacity

    def __contains__(self, uid: str) -> bool:
        return uid in self._seen

    def add(self, uid: str) -> None:
        if len(self._seen) >= self._capacity:
            self._seen.clear()
        self._seen.add(uid)

    def discard(self, uid: str) -> None:
        """Forgotten: the uid's next call checks its row again (an erased one is refused)."""
        self._seen.discard(uid)


_UID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")
"""Firebase uids: 1-128 characters. Whatever signed the token, a uid with control characters
is refused before it reaches a store, a log line or a key."""


def check_uid(uid: str) -> str:
    if not _UID.fullmatch(uid):
        raise Unauthenticated(code="token_invalid", detail="the token names no valid user id")
    return uid


async def _authenticate(request: Request, *, check_revoked: bool) -> Principal:
    svc: ApiServices = request.app.state.services
    principal = await svc.verifier.verify(_token(request), check_revoked=check_revoked)
    check_uid(principal.uid)
    await _protect(svc, request, principal)
    known: KnownUsers = request.app.state.known_users
    if principal.uid not in known:
        async with svc.unit_of_work() as uow:
            await users.ensure_user(uow, principal.uid)
            await uow.commit()
        known.add(principal.uid)
    return principal


async def _protect(svc: ApiServices, request: Request, principal: Principal) -> None:
    """Per-user limit and App Check: after the token (whose they are), before any work of the
    route, idempotency included (a replayed POST counts too: it is a request)."""
    guard = svc.protections
    if guard.rate_limiter is not None:
        scope = Scope.ANONYMOUS if principal.anonymous else Scope.USER
        await guard.rate_limiter.check(scope, kind_of(request.method), principal.uid)
    if guard.app_check is not None and request.method not in SAFE_METHODS:
        await guard.app_check.check(request.headers)


async def current_principal(request: Request) -> Principal:
    return await _authenticate(request, check_revoked=False)


async def sensitive_principal(request: Request) -> Principal:
    """For account and push-target changes: revoked tokens and disabled users are refused."""
    return await _authenticate(request, check_revoked=True)


async def recently_signed_in(request: Request) -> Principal:
    """For destructive account actions (deleting the account): a sensitive principal who
    signed in within `Protections.recent_sign_in`; else 401 `recent_sign_in_required`, and
    the app asks the user to sign in again (Firebase `reauthenticateWithCredential`)."""
    principal = await _authenticate(request, check_revoked=True)
    svc: ApiServices = request.app.state.services
    max_age = svc.protections.recent_sign_in
    signed_in = principal.auth_time
    if signed_in is None or datetime.now(UTC) - signed_in > max_age:
        minutes = int(max_age.total_seconds() // 60)
        raise RecentSignInRequired(
            detail=f"sign in again: this needs a sign-in within the last {minutes} minutes",
            max_age_seconds=int(max_age.total_seconds()),
        )
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
SensitiveUser = Annotated[Principal, Depends(sensitive_principal)]
RecentlySignedIn = Annotated[Principal, Depends(recently_signed_in)]


ORIGIN_HEADER = "X-Installation-Id"
"""Which installation sends the request: its changes' silent pushes skip it (optional)."""


def origin_of(request: Request) -> str | None:
    """The installation the request says it comes from (`X-Installation-Id`), checked."""
    origin = request.headers.get(ORIGIN_HEADER)
    if origin is not None:
        try:
            validate_installation_id(origin)
        except ValidationFailed as error:
            raise ValidationFailed.on(
                ORIGIN_HEADER, "invalid_installation_id", error.detail
            ) from error
    return origin


def unit_of_work(request: Request) -> UnitOfWork:
    """A fresh, not yet entered unit of work for this request: `async with unit_of_work(request)
    as uow: ...; await uow.commit()`. Its events name the installation in `X-Installation-Id`.

    Opened by the route where it needs it, not handed in as a dependency: FastAPI solves each
    dependency on every request, and one more cost a read about 2 % of its CPU (ADR 0025).
    """
    svc: ApiServices = request.app.state.services
    return svc.unit_of_work(origin_installation_id=origin_of(request))
