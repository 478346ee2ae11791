"""/v1/insights: a person's AI results (weekly insights, schedule suggestions), newest version
in `/v1/sync` too; dismiss one; accept a suggestion, which creates its schedule in one call.
/v1/ai/consents: who writes them, the text to agree to, and the person's answer per feature.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api.deps import CurrentUser, Services, origin_of, unit_of_work
from api.http import json_response, preconditions, resource_response
from api.idempotency import run_idempotent
from api.pagination import CursorQuery, LimitQuery, encode_cursor, page_request
from api.resources.insights.schemas import (
    AcceptSuggestion,
    ConsentAnswer,
    ConsentList,
    ConsentOut,
    InsightOut,
    InsightPage,
)
from api.resources.schedules.schemas import ScheduleOut
from api.services import AiConsents, ApiServices
from domain.ai import use_cases
from domain.errors import NotFound
from domain.unit_of_work import UnitOfWork

# Every route checks X-Installation-Id, as the routes with a unit of work do (consents have none).
router = APIRouter(tags=["insights"], dependencies=[Depends(origin_of)])


@router.get("/insights", response_model=InsightPage)
async def list_insights(
    request: Request, user: CurrentUser, cursor: CursorQuery = None, limit: LimitQuery = None
) -> Response:
    """The person's live insights and suggestions, oldest first; follow `next_cursor`."""
    page = page_request(cursor, limit)
    async with unit_of_work(request) as uow:
        found = await use_cases.list_insights(uow, user.uid, page)
    return json_response(
        InsightPage(
            items=[InsightOut.of(i) for i in found.items],
            next_cursor=encode_cursor(found.next_after),
        )
    )


@router.get("/insights/{insight_id}", response_model=InsightOut)
async def get_insight(request: Request, insight_id: UUID, user: CurrentUser) -> Response:
    async with unit_of_work(request) as uow:
        insight = await use_cases.get_insight(uow, user.uid, insight_id)
    return resource_response(request, InsightOut.of(insight), insight.version)


@router.post("/insights/{insight_id}/dismiss", status_code=204, response_class=Response)
async def dismiss_insight(
    request: Request, insight_id: UUID, user: CurrentUser, svc: Services
) -> Response:
    """Hide it on every device (a tombstone in `/v1/sync`); it is never made again. Dismissed
    already: 404, unless the request is a retry under the same `Idempotency-Key`."""

    async def effect(uow: UnitOfWork) -> Response:
        await use_cases.dismiss_insight(
            uow, user.uid, insight_id, expected_version=preconditions(request), clock=svc.clock
        )
        return Response(status_code=204)

    return await run_idempotent(request, svc, user, effect)


@router.post("/insights/{insight_id}/accept", status_code=201, response_model=ScheduleOut)
async def accept_suggestion(
    request: Request,
    insight_id: UUID,
    body: AcceptSuggestion,
    user: CurrentUser,
    svc: Services,
) -> Response:
    """Create the suggested schedule (201, `Location` of the schedule). Accepted before: the
    same schedule again (200). Send an `Idempotency-Key` so that a retry answers the first
    answer."""

    async def effect(uow: UnitOfWork) -> Response:
        accepted = await use_cases.accept_suggestion(
            uow, user.uid, insight_id, body.to_acceptance(),
            expected_version=preconditions(request), clock=svc.clock,
        )  # fmt: skip
        schedule = accepted.schedule
        location = f"{_version_prefix(request)}/schedules/{schedule.id}"
        return resource_response(
            request, ScheduleOut.of(schedule), schedule.version,
            status=201 if accepted.created else 200, headers={"Location": location},
        )  # fmt: skip

    return await run_idempotent(request, svc, user, effect)


@router.get("/ai/consents", response_model=ConsentList)
async def list_consents(user: CurrentUser, svc: Services) -> Response:
    """Per AI feature: the provider that writes it (name it so in the app), the text to show
    before asking, and whether the person agreed to that text."""
    ai = _ai(svc)
    statuses = await use_cases.consent_statuses(ai.ledger, user.uid, ai.terms)
    return json_response(ConsentList(items=[ConsentOut.of(s) for s in statuses]))


@router.put("/ai/consents", response_model=ConsentOut)
async def answer_consent(body: ConsentAnswer, user: CurrentUser, svc: Services) -> Response:
    """Agree to (or withdraw from) the provider's text, as shown. A grant of a text that is
    no longer current is refused (409 `stale_consent_text`): show the new one. A withdrawal
    takes effect for the next insight or suggestion."""
    ai = _ai(svc)
    status = await use_cases.answer_consent(
        ai.ledger, user.uid, body.feature, provider=body.provider, text_version=body.text_version,
        granted=body.granted, terms=ai.terms, clock=svc.clock,
    )  # fmt: skip
    return json_response(ConsentOut.of(status))


def _ai(svc: ApiServices) -> AiConsents:
    if svc.ai is None:
        raise NotFound(code="ai_not_offered", detail="AI features are not offered here")
    return svc.ai


def _version_prefix(request: Request) -> str:
    """`/v1` of `/v1/insights/{id}/accept`: the schedule's address in the client's version."""
    path = request.url.path
    return path[: path.index("/insights/")]
