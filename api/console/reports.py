"""The console's reports: the audit trail searched (by request, staff member, action and
dates; newest first, a page at a time) and exported as CSV, and the dashboard (requests per
month, days to complete, what is at risk or overdue now). Reading either is audited like any
view; neither shows personal data (staff by id, subjects not at all)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from api.console.access import Staff, Viewer
from api.console.pages import PREFIX, page, secured
from api.console.routes import forms_of
from api.staff.schemas import StaffRequestOut
from api.staff.services import StaffServices
from domain.errors import NotFound
from domain.privacy.ports import AuditEntry
from domain.staff import AuditQuery, AuditRecord, StaffMember

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE_SIZE = 100
CSV_LIMIT = 50_000
"""The most entries one CSV holds (narrow the search for more)."""
CSV_COLUMNS = ("seq", "at", "actor", "action", "request_id", "categories", "exemption", "detail")
T = TypeVar("T")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class AuditSearch:
    """The search form's fields as given (shown back), and the query they make."""

    fields: dict[str, str]
    query: AuditQuery
    problems: list[str]


def audit_search(request: Request, limit: int) -> AuditSearch:
    given = {
        name: request.query_params.get(name, "").strip()
        for name in ("request", "actor", "action", "from", "to", "before")
    }
    problems: list[str] = []
    request_id = _parsed(given["request"], UUID, "a request id", problems)
    since = _parsed(given["from"], date.fromisoformat, "a From date", problems)
    until = _parsed(given["to"], date.fromisoformat, "a To date", problems)
    before = _parsed(given["before"], int, "a page", problems)
    query = AuditQuery(
        request_id=request_id,
        actor=given["actor"] or None,
        action=given["action"] or None,
        since=datetime.combine(since, time(), UTC) if since else None,
        until=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
        before=before,
        limit=limit,
    )
    return AuditSearch(given, query, problems)


@router.get("/audit")
async def audit(request: Request, staff: Staff, member: Viewer) -> Response:
    """The audit trail, newest first; with a request id, that request's whole trail."""
    search = audit_search(request, PAGE_SIZE)
    found: Sequence[AuditRecord] = []
    subject = None
    if not search.problems:
        found = await staff.audit.search(search.query)
        if search.query.request_id is not None:
            subject = await _request(staff, search.query.request_id)
        await _searched(staff, member, "audit_searched", search, len(found))
    fields = {k: v for k, v in search.fields.items() if k != "before" and v}
    older = None
    if len(found) == PAGE_SIZE:
        older = "?" + urlencode(fields | {"before": str(found[-1].seq)})
    return page(
        "audit.html",
        400 if search.problems else 200,
        member=member,
        here="audit",
        fields=search.fields,
        records=found,
        request=subject,
        older=older,
        csv="?" + urlencode(fields),
        error=" ".join(search.problems) or None,
        **forms_of(staff, member),
    )


@router.get("/audit.csv")
async def audit_csv(request: Request, staff: Staff, member: Viewer) -> Response:
    """The search's entries as CSV, newest first (at most CSV_LIMIT)."""
    search = audit_search(request, CSV_LIMIT)
    if search.problems:
        return secured(Response(" ".join(search.problems), 400, media_type="text/plain"))
    found = await staff.audit.search(search.query)
    await _searched(staff, member, "audit_exported", search, len(found))
    stamp = staff.desk.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingResponse(
        _csv_lines(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )
    return secured(response)


@router.get("/dashboard")
async def dashboard(staff: Staff, member: Viewer) -> Response:
    figures = await staff.desk.figures()
    now = staff.desk.now()
    await staff.audit.record(
        AuditEntry(member.id, "viewed", None, None, now, detail={"what": "dashboard"})
    )
    busiest = max((m.received for m in figures.months), default=0)
    return page(
        "dashboard.html",
        member=member,
        here="dashboard",
        figures=figures,
        busiest=busiest,
        **forms_of(staff, member),
    )


def _csv_lines(records: Sequence[AuditRecord]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        e = record.entry
        detail = ";".join(f"{k}={v}" for k, v in sorted(e.detail.items()))
        row = (record.seq, e.at.isoformat(), e.actor, e.action, e.request_id or "",
               ";".join(e.categories), e.exemption or "", detail)  # fmt: skip
        writer.writerow([_cell(value) for value in row])
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _cell(value: object) -> str:
    """A value as a spreadsheet shows it, never as a formula it would run."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _parsed(given: str, parse: Callable[[str], T], name: str, problems: list[str]) -> T | None:
    if not given:
        return None
    try:
        return parse(given)
    except ValueError:
        problems.append(f"This is not {name}.")
        return None


async def _request(staff: StaffServices, request_id: UUID) -> StaffRequestOut | None:
    try:
        return StaffRequestOut.of(await staff.desk.get(request_id), staff.desk.now())
    except NotFound:
        return None


async def _searched(
    staff: StaffServices, member: StaffMember, action: str, search: AuditSearch, count: int
) -> None:
    q = search.query
    detail: dict[str, int | str] = {"count": count, "via": "console"}
    detail |= {k: v for k, v in search.fields.items() if v and k != "request"}
    await staff.audit.record(AuditEntry(member.id, action, q.request_id, None, staff.desk.now(),
                                        detail=detail))  # fmt: skip
