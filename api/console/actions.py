"""The console's forms that act: opening a request (the subject found by uid, email or
phone), verify, approve, refuse, extend, cancel and run on one, handing over an export's
archive (a short-lived link), and signing out. Each POST checks the CSRF token and the
member's role, then calls the use case under the member's staff id (which audits it) and
redirects to the request's page (POST-redirect-GET). A domain refusal (the author approving
their own erasure, a transition the state forbids, a value out of range) is shown on the
page with a 4xx status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from api.console.access import COOKIE, Approver, Form, Member, Operator, Staff
from api.console.pages import PREFIX, page, secured, see_other
from api.console.routes import detail_page, entry, find, forms_of
from api.staff.schemas import (
    ExtendIn,
    OpenRequestIn,
    ReasonIn,
    StaffChannel,
    StaffRequestOut,
    VerifyIn,
)
from api.staff.services import StaffServices
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from domain.privacy.model import Channel, PrivacyRequest, RequestKind, Verification
from domain.privacy.ports import AuditEntry, LookupBy
from domain.staff import StaffMember

router = APIRouter(prefix=PREFIX, include_in_schema=False)
_STATUS: list[tuple[type[DomainError], int]] = [
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (ValidationFailed, 422),
]
Act = Callable[[UUID], Awaitable[PrivacyRequest]]
STAFF_LINK_LIFETIME = timedelta(minutes=15)
"""A download link's life when staff hand an export over: long enough to save the file."""
IAP_SIGN_OUT = "/?gcp-iap-mode=CLEAR_LOGIN_COOKIE"
"""IAP's own sign-out: clears its session cookie for this host."""
_NAMES = {LookupBy.UID: "user id", LookupBy.EMAIL: "email", LookupBy.PHONE: "phone number"}


@router.get("/requests/new")
async def new_request(staff: Staff, member: Operator) -> Response:
    return _new_form(staff, member)


@router.post("/requests")
async def open_request(form: Form, staff: Staff, member: Operator) -> Response:
    """Opens a request received by email, support or post (joins the subject's open one).
    The subject is named by their uid, or found by their account's email or phone number."""
    try:
        uid = await _subject_uid(staff, member, form.get("find_by") or "uid", form)
        fields = {
            "kind": form.get("kind", ""),
            "uid": uid,
            "channel": form.get("channel", ""),
            "received_on": form.get("received_on") or None,
            "verification_method": form.get("verification_method") or None,
        }
        body = OpenRequestIn.model_validate(fields)
        verification = None
        if body.verification_method is not None:
            at = body.received_at or staff.desk.now()
            verification = Verification(body.verification_method, member.id, at)
        opened = await staff.desk.open(
            body.kind, body.uid, by=member.id, channel=Channel(body.channel),
            received_at=body.received_at, verification=verification,
        )  # fmt: skip
    except (ValidationError, DomainError) as error:
        status, message = _refusal(error)
        return _new_form(staff, member, status=status, error=message)  # the uid is not echoed
    return see_other(f"/requests/{opened.request.id}")


@router.post("/requests/{request_id}/verify")
async def verify(request_id: str, form: Form, staff: Staff, member: Operator) -> Response:
    async def act(rid: UUID) -> PrivacyRequest:
        body = VerifyIn.model_validate({"method": form.get("method", "")})
        return await staff.desk.verify(rid, body.method, by=member.id)

    return await _acting(staff, member, request_id, act)


@router.post("/requests/{request_id}/approve")
async def approve(request_id: str, form: Form, staff: Staff, member: Approver) -> Response:
    """An erasure staff opened, by someone other than its author."""
    return await _acting(staff, member, request_id, lambda rid: _approve(staff, member, rid))


@router.post("/requests/{request_id}/refuse")
async def refuse(request_id: str, form: Form, staff: Staff, member: Operator) -> Response:
    async def act(rid: UUID) -> PrivacyRequest:
        reason = _reason(form).reason
        return await staff.desk.refuse(rid, reason, by=member.id)

    return await _acting(staff, member, request_id, act)


@router.post("/requests/{request_id}/cancel")
async def cancel(request_id: str, form: Form, staff: Staff, member: Operator) -> Response:
    async def act(rid: UUID) -> PrivacyRequest:
        reason = _reason(form).reason
        return await staff.desk.cancel(rid, reason, by=member.id)

    return await _acting(staff, member, request_id, act)


@router.post("/requests/{request_id}/extend")
async def extend(request_id: str, form: Form, staff: Staff, member: Operator) -> Response:
    async def act(rid: UUID) -> PrivacyRequest:
        months = form.get("months", "")
        body = ExtendIn.model_validate(
            {"months": int(months) if months.isdigit() else 0, "reason": form.get("reason", "")}
        )
        return await staff.desk.extend(rid, body.months, body.reason, by=member.id)

    return await _acting(staff, member, request_id, act)


@router.post("/requests/{request_id}/run")
async def run(request_id: str, form: Form, staff: Staff, member: Operator) -> Response:
    """Queues a run of the remaining steps; the task queue runs them."""

    async def act(rid: UUID) -> PrivacyRequest:
        request = await staff.desk.resume(rid)
        await staff.audit.record(entry(member, "run_requested", request, staff.desk.now()))
        return request

    return await _acting(staff, member, request_id, act)


@router.post("/requests/{request_id}/download")
async def download(request_id: str, form: Form, staff: Staff, member: Operator) -> Response:
    """A short-lived signed link to a completed export's archive, to hand over; audited."""
    request = await find(staff, request_id)
    link = await staff.desk.download(request, STAFF_LINK_LIFETIME)
    if link is None:
        message = "There is no archive to download: the export is not complete or was deleted."
        return await detail_page(staff, member, request, status=409, error=message)
    await staff.audit.record(entry(member, "export_link_issued", request, staff.desk.now()))
    return page(
        "download.html",
        member=member,
        request=StaffRequestOut.of(request, staff.desk.now()),
        link=link,
        minutes=int(STAFF_LINK_LIFETIME.total_seconds() // 60),
        **forms_of(staff, member),
    )


@router.post("/sign-out")
async def sign_out(form: Form, staff: Staff, member: Member) -> Response:
    """Ends the console's session: the dev sign-in's cookie, or IAP's (its own sign-out path)."""
    await staff.audit.record(
        AuditEntry(member.id, "signed_out", None, None, staff.desk.now(), detail={"via": "console"})
    )
    if staff.dev_tokens is None:
        return secured(RedirectResponse(IAP_SIGN_OUT, status_code=303))
    response = page("signed_out.html")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


async def _subject_uid(
    staff: StaffServices, member: StaffMember, find_by: str, form: Mapping[str, str]
) -> str:
    """The uid the form names: given, or found from an email or phone number (the lookup is
    audited, by how and whether found, never with the value)."""
    subject = form.get("subject", "").strip()
    try:
        by = LookupBy(find_by)
    except ValueError:
        raise ValidationFailed.on("find_by", "invalid", "Choose how to find the subject.") from None
    if not subject:
        raise ValidationFailed.on("subject", "missing", "Enter the subject's " + _NAMES[by] + ".")
    if by is LookupBy.UID:
        return subject
    if staff.accounts is None:
        message = "Accounts cannot be looked up here: enter the subject's user id."
        raise ValidationFailed.on("find_by", "unavailable", message)
    uid = await staff.accounts.uid_of(by, subject)
    detail = {"by": by.value, "found": "yes" if uid else "no", "via": "console"}
    await staff.audit.record(
        AuditEntry(member.id, "subject_looked_up", None, None, staff.desk.now(), detail=detail)
    )
    if uid is None:
        raise NotFound(detail=f"No account has this {_NAMES[by]}.")
    return uid


async def _approve(staff: StaffServices, member: StaffMember, rid: UUID) -> PrivacyRequest:
    return await staff.desk.approve(rid, by=member.id)


def _reason(form: Mapping[str, str]) -> ReasonIn:
    return ReasonIn.model_validate({"reason": form.get("reason", "")})


async def _acting(staff: StaffServices, member: StaffMember, request_id: str, act: Act) -> Response:
    request = await find(staff, request_id)
    try:
        await act(request.id)
    except (ValidationError, DomainError) as error:
        status, message = _refusal(error)
        current = await find(staff, request_id)
        return await detail_page(staff, member, current, status=status, error=message)
    return see_other(f"/requests/{request.id}")


def _refusal(error: ValidationError | DomainError) -> tuple[int, str]:
    if isinstance(error, ValidationError):
        fields = ", ".join(str(e["loc"][0]) for e in error.errors() if e["loc"])
        return 422, f"Check these fields: {fields}." if fields else "Check the form's fields."
    status = next((s for kind, s in _STATUS if isinstance(error, kind)), 400)
    return status, error.detail or error.code.replace("_", " ").capitalize()


def _new_form(
    staff: StaffServices, member: StaffMember, *, status: int = 200, error: str | None = None
) -> Response:
    ways = [LookupBy.UID] if staff.accounts is None else list(LookupBy)
    return page(
        "new.html",
        status,
        member=member,
        here="new",
        kinds=list(RequestKind),
        channels=list(StaffChannel),
        ways=[(way.value, _NAMES[way]) for way in ways],
        error=error,
        **forms_of(staff, member),
    )
