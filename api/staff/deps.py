"""Who is calling the staff API, and whether their roles allow the route.

Every route depends on one of `Viewer`, `Operator`, `Approver`: the caller's identity comes
from the `StaffVerifier` (IAP's assertion in production) and must be a current staff member.
Anything else (an app user's token, no assertion, a forged or expired one, a removed member)
is 403 `staff_only`, and the refusal is audited with `actor="unknown"` and no personal data:
no token, no email, no uid, only why and which route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from api.services import ApiServices
from api.staff.services import StaffServices
from domain.errors import NotFound, Unauthenticated
from domain.privacy.ports import AuditEntry
from domain.staff import (
    UNKNOWN,
    Permission,
    RoleRequired,
    StaffMember,
    StaffOnly,
    require,
)

REFUSED = "staff_api_refused"


def staff_services(request: Request) -> StaffServices:
    svc: ApiServices = request.app.state.services
    if svc.staff is None:  # the router is mounted only with them; never reached
        raise NotFound(detail="the staff API is not served here")
    return svc.staff


async def _identify(request: Request) -> StaffMember:
    staff = staff_services(request)
    member: StaffMember | None = None
    try:
        principal = await staff.verifier.verify(request.headers)
        member = await staff.directory.get(principal.email)
        reason = "not_staff"
    except Unauthenticated as error:
        reason = error.code
    if member is None:
        await _refused(request, UNKNOWN, reason)
        raise StaffOnly()
    return member


async def _refused(request: Request, actor: str, reason: str, **detail: str) -> None:
    svc: ApiServices = request.app.state.services
    route = getattr(request.scope.get("route"), "path", "")
    entry = AuditEntry(
        actor=actor,
        action=REFUSED,
        request_id=None,
        subject_hash=None,
        at=svc.clock(),
        detail={"reason": reason, "method": request.method, "route": route, **detail},
    )
    await staff_services(request).audit.record(entry)


def allowed(permission: Permission) -> Callable[[Request], Awaitable[StaffMember]]:
    async def check(request: Request) -> StaffMember:
        member = await _identify(request)
        try:
            require(member, permission)
        except RoleRequired as refusal:
            await _refused(request, member.id, refusal.code, role=refusal.role)
            raise
        return member

    return check


Viewer = Annotated[StaffMember, Depends(allowed(Permission.READ))]
Operator = Annotated[StaffMember, Depends(allowed(Permission.OPERATE))]
Approver = Annotated[StaffMember, Depends(allowed(Permission.APPROVE))]
Staff = Annotated[StaffServices, Depends(staff_services)]
