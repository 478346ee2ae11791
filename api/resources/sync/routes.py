"""/v1/sync: the delta feed (every change after a cursor, deletions as tombstones), and
`POST /v1/sync/requests`, which wakes the user's other devices with a silent push.

A cursor wraps a version; one this API could not have issued is refused (422).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, unit_of_work
from api.http import json_response
from api.idempotency import run_idempotent
from api.pagination import (
    CURSOR_PATTERN,
    LimitQuery,
    clamp_limit,
    decode_cursor,
    encode_cursor,
)
from api.resources.sync.schemas import OptInType, SyncPage, SyncRequestOut
from domain.errors import ValidationFailed
from domain.sync import use_cases
from domain.sync.model import START, EntityType
from domain.unit_of_work import UnitOfWork

router = APIRouter(prefix="/sync", tags=["sync"])

_VERSION = re.compile(r"-?[0-9]{1,19}")  # ASCII digits: `\d` also takes "١٢"; fullmatch
_MAX_VERSION = 2**63 - 1
"""Versions are PostgreSQL bigints: a cursor beyond one was never issued."""


def _after_version(since: str | None) -> int:
    position = decode_cursor(since, "since")
    if position is None:
        return START
    if len(position) != 1 or not _VERSION.fullmatch(position[0]):
        raise ValidationFailed.on("since", "invalid_cursor", "not a cursor this API issued")
    version = int(position[0])
    if version > _MAX_VERSION:
        raise ValidationFailed.on("since", "invalid_cursor", "not a cursor this API issued")
    return max(START, version)


@router.get("", response_model=SyncPage)
async def sync(
    request: Request,
    user: CurrentUser,
    since: Annotated[
        str | None,
        Query(
            description="next_cursor of the last sync; none: everything",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
    limit: LimitQuery = None,
    include: Annotated[
        list[OptInType] | None,
        Query(
            description="Types sent only when asked for (repeat for several): `insight`. "
            "Asking for one the first time, sync from the start (no `since`) once, or read "
            "its own list (GET /v1/insights): changes older than your cursor are not resent."
        ),
    ] = None,
) -> Response:
    """Every record of the user that changed since `since`, deletions as tombstones."""
    after = _after_version(since)
    page_size = clamp_limit(limit)
    extra = frozenset(EntityType(t.value) for t in include or ())
    async with unit_of_work(request) as uow:
        page = await use_cases.changes_since(uow, user.uid, after, page_size, include=extra)
    return json_response(SyncPage.of(page, encode_cursor((str(page.last_version),)) or ""))


@router.post("/requests", status_code=202, response_model=SyncRequestOut)
async def request_sync(request: Request, user: CurrentUser, svc: Services) -> Response:
    """Ask the user's other devices to sync now.

    Each gets a silent push (within its push budget; over it, one delayed push follows).
    Send `X-Installation-Id` so the calling device is not woken itself. Retried with the same
    `Idempotency-Key`, the first answer comes back and no second request is made.
    """

    async def effect(uow: UnitOfWork) -> Response:
        version = await use_cases.request_sync(uow, user.uid, clock=svc.clock)
        return json_response(SyncRequestOut(version=version), status=202)

    return await run_idempotent(request, svc, user, effect)
