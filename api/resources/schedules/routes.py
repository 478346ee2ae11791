"""/v1/schedules: create (retried safely with `Idempotency-Key`), list, read, patch, delete.

A schedule always points at one of the user's live blocklists; the domain checks it.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, unit_of_work
from api.http import json_response, location_of, preconditions, resource_response
from api.idempotency import run_idempotent
from api.pagination import CursorQuery, LimitQuery, encode_cursor, page_request
from api.resources.schedules.schemas import ScheduleCreate, ScheduleOut, SchedulePage, SchedulePatch
from domain.schedules import use_cases
from domain.unit_of_work import UnitOfWork

router = APIRouter(prefix="/schedules", tags=["schedules"])


@router.post("", status_code=201, response_model=ScheduleOut)
async def create_schedule(
    request: Request, body: ScheduleCreate, user: CurrentUser, svc: Services
) -> Response:
    """Create a schedule. Send an `Idempotency-Key` so that a retry cannot create two."""

    async def effect(uow: UnitOfWork) -> Response:
        schedule = await use_cases.create_schedule(uow, user.uid, body.to_draft(), clock=svc.clock)
        location = location_of(request, schedule.id)
        return resource_response(
            request,
            ScheduleOut.of(schedule),
            schedule.version,
            status=201,
            headers={"Location": location},
        )

    return await run_idempotent(request, svc, user, effect)


@router.get("", response_model=SchedulePage)
async def list_schedules(
    request: Request, user: CurrentUser, cursor: CursorQuery = None, limit: LimitQuery = None
) -> Response:
    """The user's schedules, oldest first; follow `next_cursor` until it is null."""
    page = page_request(cursor, limit)
    async with unit_of_work(request) as uow:
        found = await use_cases.list_schedules(uow, user.uid, page)
    return json_response(
        SchedulePage(
            items=[ScheduleOut.of(s) for s in found.items],
            next_cursor=encode_cursor(found.next_after),
        )
    )


@router.get("/{schedule_id}", response_model=ScheduleOut)
async def get_schedule(request: Request, schedule_id: UUID, user: CurrentUser) -> Response:
    async with unit_of_work(request) as uow:
        schedule = await use_cases.get_schedule(uow, user.uid, schedule_id)
    return resource_response(request, ScheduleOut.of(schedule), schedule.version)


@router.patch("/{schedule_id}", response_model=ScheduleOut)
async def patch_schedule(
    request: Request, schedule_id: UUID, body: SchedulePatch, user: CurrentUser, svc: Services
) -> Response:
    async with unit_of_work(request) as uow:
        updated = await use_cases.update_schedule(
            uow,
            user.uid,
            schedule_id,
            body.to_changes(),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return resource_response(request, ScheduleOut.of(updated), updated.version)


@router.delete("/{schedule_id}", status_code=204, response_class=Response)
async def delete_schedule(
    request: Request, schedule_id: UUID, user: CurrentUser, svc: Services
) -> Response:
    async with unit_of_work(request) as uow:
        await use_cases.delete_schedule(
            uow,
            user.uid,
            schedule_id,
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return Response(status_code=204)
