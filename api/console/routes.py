"""The console's pages that read: the queue of open requests, a request's detail (its clock,
steps and the actions the member's roles allow), a request's audit trail, and the stylesheet.
Every page checks the member's role; views of a request are audited (`viewed`), the queue
as a list (`listed`), as the staff API audits them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from fastapi import APIRouter
from starlette.responses import Response

from api.console.access import CSRF_FIELD, Staff, Viewer, csrf_token
from api.console.pages import PREFIX, ConsoleRefusal, page, stylesheet
from api.staff.schemas import StaffRequestOut, StepOut
from api.staff.services import StaffServices
from domain.errors import NotFound
from domain.privacy.model import PrivacyRequest, RequestKind, RequestState
from domain.privacy.ports import AuditEntry, RequestFilter
from domain.staff import Permission, StaffMember

router = APIRouter(prefix=PREFIX, include_in_schema=False)
QUEUE_LIMIT = 1000
E = TypeVar("E", RequestKind, RequestState)
OPEN_STATES = [s for s in RequestState if s.open]


@router.get("/")
async def queue(
    staff: Staff, member: Viewer, kind: str | None = None, state: str | None = None
) -> Response:
    """Open requests, soonest due first."""
    kinds = _choice(RequestKind, kind)
    states = _choice(RequestState, state)
    where = RequestFilter(kinds=kinds, states=states or OPEN_STATES, limit=QUEUE_LIMIT)
    found = await staff.desk.find(where)
    now = staff.desk.now()
    await staff.audit.record(
        AuditEntry(member.id, "listed", None, None, now, detail={"count": len(found)})
    )
    shown = [StaffRequestOut.of(r, now) for r in sorted(found, key=lambda r: r.due_at(now))]
    counts = {
        "shown": len(shown),
        "at_risk": sum(r.clock.at_risk for r in shown),
        "overdue": sum(r.clock.overdue for r in shown),
        **{f"state_{s}": n for s, n in Counter(r.state.value for r in shown).items()},
    }
    return page(
        "queue.html",
        member=member,
        here="queue",
        requests=shown,
        counts=counts,
        limited=len(found) == QUEUE_LIMIT,
        kinds=list(RequestKind),
        states=OPEN_STATES,
        kind=kinds[0].value if kinds else "",
        state=states[0].value if states else "",
        **forms_of(staff, member),
    )


@router.get("/requests/{request_id}")
async def detail(request_id: str, staff: Staff, member: Viewer) -> Response:
    request = await find(staff, request_id)
    await viewed(staff, member, request, "request")
    return await detail_page(staff, member, request)


@router.get("/static/console.css")
async def css() -> Response:
    return stylesheet()


async def find(staff: StaffServices, request_id: str) -> PrivacyRequest:
    """The request with this id; a page saying so when there is none (or it is no id)."""
    try:
        return await staff.desk.get(UUID(request_id))
    except (ValueError, NotFound) as exc:
        raise ConsoleRefusal(404, "Not found", "No request has this id.") from exc


async def detail_page(
    staff: StaffServices,
    member: StaffMember,
    request: PrivacyRequest,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    steps = await staff.desk.steps(request.id)
    now = staff.desk.now()
    shown = StaffRequestOut.of(request, now)
    state = request.state
    # Before an erasure runs, what it will touch: the approver reads it before approving.
    before_running = state in (RequestState.RECEIVED, RequestState.VERIFIED, RequestState.APPROVED)
    dry_run = None
    if before_running and staff.dry_run is not None:
        dry_run = sorted((await staff.dry_run(request.id)).items())
    may_operate, may_approve = member.may(Permission.OPERATE), member.may(Permission.APPROVE)
    actions = {
        "verify": may_operate and state is RequestState.RECEIVED,
        "approve": may_approve and state is RequestState.VERIFIED and request.needs_approval,
        "run": may_operate and state in _RUNNABLE,
        "extend": may_operate and state.open,
        "refuse": may_operate and state.open and state is not RequestState.RUNNING,
        "cancel": may_operate and state.open and state is not RequestState.RUNNING,
        "download": may_operate
        and request.kind is RequestKind.EXPORT
        and state is RequestState.COMPLETED,
    }
    return page(
        "detail.html",
        status,
        member=member,
        request=shown,
        steps=[StepOut.of(s) for s in steps],
        dry_run=dry_run,
        actions=actions,
        error=error,
        **forms_of(staff, member),
    )


_RUNNABLE = (RequestState.VERIFIED, RequestState.APPROVED, RequestState.RUNNING)


def forms_of(staff: StaffServices, member: StaffMember) -> dict[str, object]:
    """What every page's forms and navigation need."""
    return {
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(staff, member.id),
        "may_operate": member.may(Permission.OPERATE),
    }


async def viewed(
    staff: StaffServices, member: StaffMember, request: PrivacyRequest, what: str
) -> None:
    await staff.audit.record(entry(member, "viewed", request, staff.desk.now(), what=what))


def entry(
    member: StaffMember, action: str, request: PrivacyRequest, at: datetime, **detail: str
) -> AuditEntry:
    return AuditEntry(
        actor=member.id,
        action=action,
        request_id=request.id,
        subject_hash=request.subject_hash,
        at=at,
        detail={"kind": request.kind.value, "state": request.state.value, "via": "console"}
        | detail,
    )


def _choice(enum: type[E], given: str | None) -> list[E]:
    if not given:
        return []
    try:
        return [enum(given)]
    except ValueError as exc:
        raise ConsoleRefusal(400, "Unknown filter", "Choose a filter from the list.") from exc
