"""Who is using the console, what their roles allow, and the CSRF check of every form.

Identity is the staff verifier's, as for the staff API: IAP's assertion in production; outside
it, a dev staff token in the same header or in the `focus_console` cookie the dev sign-in sets.
An unidentified caller gets a 403 page without personal data, audited as the staff API audits
its refusals (`staff_api_refused`, actor `unknown`, the reason and route only). A form's CSRF
token is an HMAC of the member's staff id under the console's key; a POST without a valid one
is refused and audited (`console_csrf_refused`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request

from api.console.pages import ConsoleRefusal
from api.services import ApiServices
from api.staff.deps import REFUSED
from api.staff.services import StaffServices
from domain.errors import AuthUnavailable, Unauthenticated
from domain.privacy.ports import AuditEntry
from domain.staff import UNKNOWN, Permission, RoleRequired, StaffMember, require

IAP_HEADER = "x-goog-iap-jwt-assertion"
COOKIE = "focus_console"
CSRF_FIELD = "csrf"
CSRF_REFUSED = "console_csrf_refused"
SIGN_IN = "dev-sign-in"
"""What the dev sign-in form's token is bound to: nobody is identified yet."""


def staff_of(request: Request) -> StaffServices:
    svc: ApiServices = request.app.state.services
    if svc.staff is None:  # the console is mounted only with them; never reached
        raise ConsoleRefusal(404, "Not found", "The console is not served here.")
    return svc.staff


def csrf_token(staff: StaffServices, bound_to: str) -> str:
    key = staff.console_csrf_key or b""
    return hmac.new(key, f"console-csrf:{bound_to}".encode(), hashlib.sha256).hexdigest()


async def identify(request: Request) -> StaffMember:
    staff = staff_of(request)
    token = request.headers.get(IAP_HEADER)
    if not token and staff.dev_tokens is not None:
        token = request.cookies.get(COOKIE)
    member: StaffMember | None = None
    try:
        principal = await staff.verifier.verify({IAP_HEADER: token} if token else {})
        member = await staff.directory.get(principal.email)
        reason = "not_staff"
    except Unauthenticated as error:
        reason = error.code
    except AuthUnavailable as error:
        raise ConsoleRefusal(503, "Try again", "Staff identity cannot be checked now.") from error
    if member is None:
        await audit_refusal(request, UNKNOWN, REFUSED, reason=reason)
        raise ConsoleRefusal(
            403, "Staff only", "This console is for compliance staff only: sign in to use it."
        )
    return member


def allowed(permission: Permission) -> Callable[[Request, StaffMember], Awaitable[StaffMember]]:
    async def check(
        request: Request, member: Annotated[StaffMember, Depends(identify)]
    ) -> StaffMember:
        try:
            require(member, permission)
        except RoleRequired as refusal:
            await audit_refusal(request, member.id, REFUSED, reason=refusal.code, role=refusal.role)
            message = f"This needs the {refusal.role} role, which you do not hold."
            raise ConsoleRefusal(403, "Role needed", message) from refusal
        return member

    return check


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each)."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


async def checked_form(
    request: Request, member: Annotated[StaffMember, Depends(identify)]
) -> Mapping[str, str]:
    """The POSTed form, once its CSRF token is the member's."""
    form = await read_form(request)
    if not valid_csrf(staff_of(request), member.id, form):
        await audit_refusal(request, member.id, CSRF_REFUSED, reason="csrf_invalid")
        raise ConsoleRefusal(403, "Form expired", "Reload the page and submit the form again.")
    return form


def valid_csrf(staff: StaffServices, bound_to: str, form: Mapping[str, str]) -> bool:
    given = form.get(CSRF_FIELD, "")
    return bool(given) and hmac.compare_digest(given, csrf_token(staff, bound_to))


async def audit_refusal(request: Request, actor: str, action: str, **detail: str) -> None:
    svc: ApiServices = request.app.state.services
    route = getattr(request.scope.get("route"), "path", "")
    entry = AuditEntry(
        actor=actor,
        action=action,
        request_id=None,
        subject_hash=None,
        at=svc.clock(),
        detail={"method": request.method, "route": route, **detail},
    )
    await staff_of(request).audit.record(entry)


Member = Annotated[StaffMember, Depends(identify)]
Viewer = Annotated[StaffMember, Depends(allowed(Permission.READ))]
Operator = Annotated[StaffMember, Depends(allowed(Permission.OPERATE))]
Approver = Annotated[StaffMember, Depends(allowed(Permission.APPROVE))]
Form = Annotated[Mapping[str, str], Depends(checked_form)]
Staff = Annotated[StaffServices, Depends(staff_of)]
