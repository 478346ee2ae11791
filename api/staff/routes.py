"""/staff/v1/privacy: data-subject requests as the compliance console moves them on.

Requests are addressed by their id; the subject's uid travels only in the body of the POST
that opens one. Each route checks the caller's role (`api.staff.deps`) and acts under their
staff id, so the use cases audit every change with it; reads of a request are audited too
(`viewed`), and so is a run asked for (`run_requested`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query
from starlette.responses import Response

from api.http import json_response
from api.staff.deps import Approver, Operator, Staff, Viewer
from api.staff.schemas import (
    AuditTrailOut,
    ExtendIn,
    OpenRequestIn,
    ReasonIn,
    RequestDetailOut,
    RequestListOut,
    StaffRequestOut,
    VerifyIn,
)
from api.staff.services import StaffServices
from domain.privacy.model import Channel, PrivacyRequest, RequestKind, RequestState, Verification
from domain.privacy.ports import AuditEntry, RequestFilter
from domain.staff import StaffMember

router = APIRouter(prefix="/staff/v1/privacy", include_in_schema=False)
LIST_LIMIT = 1000


@router.get("/requests")
async def list_requests(
    staff: Staff,
    member: Viewer,
    kind: RequestKind | None = None,
    state: RequestState | None = None,
    only_open: bool = Query(default=False, alias="open"),
) -> Response:
    """By due date, soonest first."""
    states = [state] if state else [s for s in RequestState if s.open] if only_open else []
    where = RequestFilter(kinds=[kind] if kind else [], states=states, limit=LIST_LIMIT)
    found = await staff.desk.find(where)
    now = staff.desk.now()
    await staff.audit.record(
        AuditEntry(member.id, "listed", None, None, now, detail={"count": len(found)})
    )
    shown = [StaffRequestOut.of(r, now) for r in sorted(found, key=lambda r: r.due_at(now))]
    return json_response(RequestListOut(requests=shown, limited=len(found) == LIST_LIMIT))


@router.post("/requests")
async def open_request(body: OpenRequestIn, staff: Staff, member: Operator) -> Response:
    """Opens a request received by email, support or post; joins the subject's open one."""
    now = staff.desk.now()
    verification = None
    if body.verification_method is not None:
        # Verified on receipt: the clock was never paused.
        verification = Verification(body.verification_method, member.id, body.received_at or now)
    opened = await staff.desk.open(
        body.kind, body.uid, by=member.id, channel=Channel(body.channel),
        received_at=body.received_at, verification=verification,
    )  # fmt: skip
    request = opened.request
    status = 200 if opened.joined else 201
    headers = {"Location": f"{router.prefix}/requests/{request.id}"}
    return await _detail(staff, request, status=status, headers=headers, joined=opened.joined)


@router.get("/requests/{request_id}")
async def get_request(request_id: UUID, staff: Staff, member: Viewer) -> Response:
    """A request, its clock and its steps."""
    request = await staff.desk.get(request_id)
    await _viewed(staff, member, request, "request")
    return await _detail(staff, request)


@router.get("/requests/{request_id}/dry-run")
async def get_dry_run(request_id: UUID, staff: Staff, member: Viewer) -> Response:
    """What the request would touch now, store by store and kind by kind, touching nothing:
    read it before approving an erasure (null: this deployment has no such store)."""
    request = await staff.desk.get(request_id)
    await _viewed(staff, member, request, "dry_run")
    counts = await staff.dry_run(request_id) if staff.dry_run is not None else {}
    return json_response({"request_id": str(request_id), "records": dict(counts)})


@router.get("/requests/{request_id}/audit")
async def get_audit_trail(request_id: UUID, staff: Staff, member: Viewer) -> Response:
    """Everything done to a request, in order (no personal data)."""
    request = await staff.desk.get(request_id)
    await _viewed(staff, member, request, "audit_trail")
    trail = await staff.audit.trail(request_id)
    return json_response(AuditTrailOut.of(request_id, trail))


@router.post("/requests/{request_id}/verify")
async def verify(request_id: UUID, body: VerifyIn, staff: Staff, member: Operator) -> Response:
    return await _detail(staff, await staff.desk.verify(request_id, body.method, by=member.id))


@router.post("/requests/{request_id}/approve")
async def approve(request_id: UUID, staff: Staff, member: Approver) -> Response:
    """An erasure staff opened, by someone other than its author."""
    return await _detail(staff, await staff.desk.approve(request_id, by=member.id))


@router.post("/requests/{request_id}/refuse")
async def refuse(request_id: UUID, body: ReasonIn, staff: Staff, member: Operator) -> Response:
    return await _detail(staff, await staff.desk.refuse(request_id, body.reason, by=member.id))


@router.post("/requests/{request_id}/cancel")
async def cancel(request_id: UUID, body: ReasonIn, staff: Staff, member: Operator) -> Response:
    return await _detail(staff, await staff.desk.cancel(request_id, body.reason, by=member.id))


@router.post("/requests/{request_id}/extend")
async def extend(request_id: UUID, body: ExtendIn, staff: Staff, member: Operator) -> Response:
    changed = await staff.desk.extend(request_id, body.months, body.reason, by=member.id)
    return await _detail(staff, changed)


@router.post("/requests/{request_id}/run", status_code=202)
async def run(request_id: UUID, staff: Staff, member: Operator) -> Response:
    """Queues a run of the remaining steps (a stuck request): the task queue runs them, each
    failure recorded on its step and retried; follow the request's steps."""
    request = await staff.desk.resume(request_id)
    await staff.audit.record(_entry(member, "run_requested", request, staff.desk.now()))
    return await _detail(staff, request, status=202)


async def _viewed(staff: StaffServices, member: StaffMember, r: PrivacyRequest, what: str) -> None:
    await staff.audit.record(_entry(member, "viewed", r, staff.desk.now(), what=what))


def _entry(
    member: StaffMember, action: str, request: PrivacyRequest, at: datetime, **detail: str
) -> AuditEntry:
    return AuditEntry(
        actor=member.id,
        action=action,
        request_id=request.id,
        subject_hash=request.subject_hash,
        at=at,
        detail={"kind": request.kind.value, "state": request.state.value, **detail},
    )


async def _detail(
    staff: StaffServices,
    request: PrivacyRequest,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    joined: bool | None = None,
) -> Response:
    steps = await staff.desk.steps(request.id)
    now = staff.desk.now()
    body = RequestDetailOut.of(request, steps, now, joined=joined)
    return json_response(body, status, headers)
