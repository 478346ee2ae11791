"""/v1/usage: each device's screen time per day, one report per (date, installation), put
idempotently and read by day or range. A day is accepted once it has begun where the user is,
and for 400 days after.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, unit_of_work
from api.http import json_response, preconditions, resource_response
from api.pagination import CursorQuery, LimitQuery, encode_cursor, page_request
from api.resources.usage.schemas import (
    InstallationIdQuery,
    UsagePut,
    UsageReportList,
    UsageReportOut,
)
from api.schemas import LocalDate
from domain.usage import use_cases

router = APIRouter(prefix="/usage", tags=["usage"])


@router.put(
    "/{date}",
    response_model=UsageReportOut,
    responses={201: {"model": UsageReportOut, "description": "The first report of this day"}},
)
async def put_usage_report(
    request: Request, date: LocalDate, body: UsagePut, user: CurrentUser, svc: Services
) -> Response:
    """Store this device's screen time of `date` (idempotent: the same body twice changes
    nothing). Refused when the day has not begun where the user is, or is over 400 days old."""
    async with unit_of_work(request) as uow:
        report, created = await use_cases.submit_usage_report(
            uow,
            user.uid,
            date,
            body.installation_id,
            body.to_usage(),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return resource_response(
        request, UsageReportOut.of(report), report.version, status=201 if created else 200
    )


@router.get("", response_model=UsageReportList)
async def list_usage_reports(
    request: Request,
    user: CurrentUser,
    first: Annotated[LocalDate, Query(alias="from", description="First day, inclusive")],
    last: Annotated[LocalDate, Query(alias="to", description="Last day, inclusive; ≤ 366 days")],
    cursor: CursorQuery = None,
    limit: LimitQuery = None,
) -> Response:
    """Every device's reports of the days `from`..`to`, by date then device, a page at a time."""
    async with unit_of_work(request) as uow:
        page = await use_cases.list_usage_reports(
            uow, user.uid, first, last, page_request(cursor, limit)
        )
    return json_response(
        UsageReportList(
            items=[UsageReportOut.of(r) for r in page.items],
            next_cursor=encode_cursor(page.next_after),
        )
    )


@router.get("/{date}", response_model=UsageReportOut)
async def get_usage_report(
    request: Request, date: LocalDate, installation_id: InstallationIdQuery, user: CurrentUser
) -> Response:
    async with unit_of_work(request) as uow:
        report = await use_cases.get_usage_report(uow, user.uid, date, installation_id)
    return resource_response(request, UsageReportOut.of(report), report.version)
