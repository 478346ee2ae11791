"""/v1/focus-sessions: start and end (both safe to retry), list by local day, read one.

A user has one running session at a time; a hard-mode session cannot be ended early (409).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, unit_of_work
from api.http import json_response, location_of, preconditions, resource_response
from api.idempotency import run_idempotent
from api.pagination import CursorQuery, LimitQuery, encode_cursor, page_request
from api.problems import documented_problem
from api.resources.focus_sessions.schemas import (
    FocusSessionEnd,
    FocusSessionOut,
    FocusSessionPage,
    FocusSessionStart,
)
from api.schemas import LocalDate
from domain.focus_sessions import use_cases
from domain.focus_sessions.model import DayRange
from domain.unit_of_work import UnitOfWork

router = APIRouter(prefix="/focus-sessions", tags=["focus-sessions"])


@router.post(
    "",
    status_code=201,
    response_model=FocusSessionOut,
    responses={
        200: {"model": FocusSessionOut, "description": "This start was already received"},
        409: documented_problem("focus_session_already_running, focus_session_id_conflict"),
    },
)
async def start_focus_session(
    request: Request, body: FocusSessionStart, user: CurrentUser, svc: Services
) -> Response:
    """Start a focus session. A user has one running session at a time.

    Retries are safe with an `Idempotency-Key`, or with the session `id` the app chose.
    """

    async def effect(uow: UnitOfWork) -> Response:
        session, created = await use_cases.start_focus_session(
            uow, user.uid, body.to_start(), clock=svc.clock
        )
        if not created:
            return resource_response(request, FocusSessionOut.of(session), session.version)
        location = location_of(request, session.id)
        return resource_response(
            request,
            FocusSessionOut.of(session),
            session.version,
            status=201,
            headers={"Location": location},
        )

    return await run_idempotent(request, svc, user, effect)


@router.post(
    "/{session_id}/end",
    response_model=FocusSessionOut,
    responses={409: documented_problem("focus_session_already_ended, hard_mode_locked")},
)
async def end_focus_session(
    request: Request, session_id: UUID, body: FocusSessionEnd, user: CurrentUser, svc: Services
) -> Response:
    """End the running session; sending the same end again returns the ended session."""

    async def effect(uow: UnitOfWork) -> Response:
        session = await use_cases.end_focus_session(
            uow,
            user.uid,
            session_id,
            body.to_end(),
            expected_version=preconditions(request),
            clock=svc.clock,
        )
        return resource_response(request, FocusSessionOut.of(session), session.version)

    return await run_idempotent(request, svc, user, effect)


@router.get("", response_model=FocusSessionPage)
async def list_focus_sessions(
    request: Request,
    user: CurrentUser,
    from_: Annotated[
        LocalDate | None,
        Query(alias="from", description="First local day (YYYY-MM-DD), as in stats"),
    ] = None,
    to: Annotated[LocalDate | None, Query(description="Last local day, included")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = None,
) -> Response:
    """Your sessions, newest first, on the local days they count for in stats."""
    days = DayRange(from_, to)
    page = page_request(cursor, limit)
    async with unit_of_work(request) as uow:
        found = await use_cases.list_focus_sessions(uow, user.uid, days, page)
    return json_response(
        FocusSessionPage(
            items=[FocusSessionOut.of(s) for s in found.items],
            next_cursor=encode_cursor(found.next_after),
        )
    )


@router.get("/{session_id}", response_model=FocusSessionOut)
async def get_focus_session(request: Request, session_id: UUID, user: CurrentUser) -> Response:
    async with unit_of_work(request) as uow:
        session = await use_cases.get_focus_session(uow, user.uid, session_id)
    return resource_response(request, FocusSessionOut.of(session), session.version)
