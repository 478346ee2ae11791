"""Dependencies every route uses, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.services import ApiServices
from domain.errors import Unauthenticated
from domain.identity import Principal
from domain.unit_of_work import UnitOfWork
from domain.users import use_cases as users


async def services(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found


Services = Annotated[ApiServices, Depends(services)]


_bearer_scheme = HTTPBearer(
    auto_error=False, bearerFormat="JWT", description="A Firebase ID token of the app user"
)
BearerToken = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise Unauthenticated(
            code="token_missing", detail="send 'Authorization: Bearer <ID token>'"
        )
    return credentials.credentials.strip()


class _KnownUsers:
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


async def _authenticate(
    request: Request, svc: ApiServices, token: str, *, check_revoked: bool
) -> Principal:
    principal = await svc.verifier.verify(token, check_revoked=check_revoked)
    known: _KnownUsers = request.app.state.known_users
    if principal.uid not in known:
        async with svc.unit_of_work() as uow:
            await users.ensure_user(uow, principal.uid)
            await uow.commit()
        known.add(principal.uid)
    return principal


async def current_principal(request: Request, svc: Services, bearer: BearerToken) -> Principal:
    return await _authenticate(request, svc, _token(bearer), check_revoked=False)


async def sensitive_principal(request: Request, svc: Services, bearer: BearerToken) -> Principal:
    """For account and push-target changes: revoked tokens and disabled users are refused."""
    return await _authenticate(request, svc, _token(bearer), check_revoked=True)


CurrentUser = Annotated[Principal, Depends(current_principal)]
SensitiveUser = Annotated[Principal, Depends(sensitive_principal)]


async def new_unit_of_work(svc: Services) -> UnitOfWork:
    return svc.unit_of_work()


Uow = Annotated[UnitOfWork, Depends(new_unit_of_work)]
"""A fresh, not yet entered unit of work: `async with uow: ...; await uow.commit()`."""

KnownUsers = _KnownUsers
