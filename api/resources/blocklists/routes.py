"""/v1/blocklists: create (retried safely with `Idempotency-Key`), list, read, patch, delete.

A blocklist that a live schedule uses cannot be deleted (409 `blocklist_in_use`).
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, unit_of_work
from api.http import json_response, location_of, preconditions, resource_response
from api.idempotency import run_idempotent
from api.pagination import CursorQuery, LimitQuery, encode_cursor, page_request
from api.resources.blocklists.schemas import (
    BlocklistCreate,
    BlocklistOut,
    BlocklistPage,
    BlocklistPatch,
)
from domain.blocklists import use_cases
from domain.unit_of_work import UnitOfWork

router = APIRouter(prefix="/blocklists", tags=["blocklists"])


@router.post("", status_code=201, response_model=BlocklistOut)
async def create_blocklist(
    request: Request, body: BlocklistCreate, user: CurrentUser, svc: Services
) -> Response:
    """Create a blocklist. Send an `Idempotency-Key` so that a retry cannot create two."""

    async def effect(uow: UnitOfWork) -> Response:
        blocklist = await use_cases.create_blocklist(
            uow, user.uid, body.to_draft(), clock=svc.clock
        )
        location = location_of(request, blocklist.id)
        return resource_response(
            request,
            BlocklistOut.of(blocklist),
            blocklist.version,
            status=201,
            headers={"Location": location},
        )

    return await run_idempotent(request, svc, user, effect)


@router.get("", response_model=BlocklistPage)
async def list_blocklists(
    request: Request, user: CurrentUser, cursor: CursorQuery = None, limit: LimitQuery = None
) -> Response:
    """The user's blocklists, oldest first; follow `next_cursor` until it is null."""
    page = page_request(cursor, limit)
    async with unit_of_work(request) as uow:
        found = await use_cases.list_blocklists(uow, user.uid, page)
    return json_response(
        BlocklistPage(
            items=[BlocklistOut.of(b) for b in found.items],
            next_cursor=encode_cursor(found.next_after),
        )
    )


@router.get("/{blocklist_id}", response_model=BlocklistOut)
async def get_blocklist(request: Request, blocklist_id: UUID, user: CurrentUser) -> Response:
    async with unit_of_work(request) as uow:
        blocklist = await use_cases.get_blocklist(uow, user.uid, blocklist_id)
    return resource_response(request, BlocklistOut.of(blocklist), blocklist.version)


@router.patch("/{blocklist_id}", response_model=BlocklistOut)
async def patch_blocklist(
    request: Request, blocklist_id: UUID, body: BlocklistPatch, user: CurrentUser, svc: Services
) -> Response:
    async with unit_of_work(request) as uow:
        updated = await use_cases.update_blocklist(
            uow,
            user.uid,
            blocklist_id,
            body.to_changes(),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return resource_response(request, BlocklistOut.of(updated), updated.version)


@router.delete("/{blocklist_id}", status_code=204, response_class=Response)
async def delete_blocklist(
    request: Request, blocklist_id: UUID, user: CurrentUser, svc: Services
) -> Response:
    """Refused with 409 `blocklist_in_use` while a schedule uses the blocklist."""
    async with unit_of_work(request) as uow:
        await use_cases.delete_blocklist(
            uow,
            user.uid,
            blocklist_id,
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        await uow.commit()
    return Response(status_code=204)
