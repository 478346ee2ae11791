"""The console's dev sign-in (`/console/dev-sign-in`), mounted only where the staff verifier
is the dev one (never in production, where IAP identifies staff): a current staff member's
email in, a dev staff token out, kept in the `focus_console` cookie (HttpOnly, SameSite=Strict,
Path=/console, Secure unless served over plain http on this machine)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.console.access import COOKIE, CSRF_FIELD, SIGN_IN, Staff, csrf_token, read_form
from api.console.access import valid_csrf as csrf_matches
from api.console.pages import PREFIX, ConsoleRefusal, page, see_other
from api.staff.services import StaffServices
from domain.errors import ValidationFailed
from domain.staff import normalise_email

router = APIRouter(prefix=PREFIX, include_in_schema=False)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TOKEN_HOURS = 8


@router.get("/dev-sign-in")
async def sign_in_form(staff: Staff) -> Response:
    return _form(staff)


@router.post("/dev-sign-in")
async def sign_in(request: Request, staff: Staff) -> Response:
    form = await read_form(request)
    if not csrf_matches(staff, SIGN_IN, form):
        raise ConsoleRefusal(403, "Form expired", "Reload the page and sign in again.")
    try:
        email = normalise_email(form.get("email", ""))
    except ValidationFailed:
        return _form(staff, status=422, error="Enter an email address.")
    if staff.dev_tokens is None or await staff.directory.get(email) is None:
        return _form(staff, status=403, error="No current staff member has this email.")
    response = see_other("/")
    response.set_cookie(
        COOKIE,
        staff.dev_tokens.issue(email),
        max_age=TOKEN_HOURS * 3600,
        path=PREFIX,
        secure=not _plain_local(request),
        httponly=True,
        samesite="strict",
    )
    return response


def _plain_local(request: Request) -> bool:
    return request.url.scheme == "http" and request.url.hostname in LOCAL_HOSTS


def _form(staff: StaffServices, *, status: int = 200, error: str | None = None) -> Response:
    token = csrf_token(staff, SIGN_IN)
    return page("sign_in.html", status, csrf_field=CSRF_FIELD, csrf=token, error=error)
