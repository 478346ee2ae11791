"""The console's forms that act: opening a request, and verify, approve, refuse, extend,
cancel and run on one. Each POST checks the CSRF token and the member's role, then calls the
use case under the member's staff id (which audits it) and redirects to the request's page
(POST-redirect-GET). A domain refusal (the author approving their own erasure, a transition
the state forbids, a value out of range) is shown on the page with a 4xx status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from api.console.access import Approver, Form, Operator, Staff
from api.console.pages import PREFIX, page, see_other
from api.console.routes import detail_page, entry, find, forms_of
from api.staff.schemas import ExtendIn, OpenRequestIn, ReasonIn, StaffChannel, VerifyIn
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


@router.get("/requests/new")
async def new_request(staff: Staff, member: Operator) -> Response:
    return _new_form(staff, member)


@router.post("/requests")
async def open_request(form: Form, staff: Staff, member: Operator) -> Response:
    """Opens a request received by email, support or post (joins the subject's open one)."""
    fields = {
        "kind": form.get("kind", ""),
        "uid": form.get("uid", ""),
        "channel": form.get("channel", ""),
        "received_on": form.get("received_on") or None,
        "verification_method": form.get("verification_method") or None,
    }
    try:
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
    return page(
        "new.html",
        status,
        member=member,
        kinds=list(RequestKind),
        channels=list(StaffChannel),
        error=error,
        **forms_of(staff, member),
    )
