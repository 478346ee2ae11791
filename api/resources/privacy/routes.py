"""/v1/privacy: ask for an export of one's data, and follow a request (an export, or the
erasure DELETE /v1/me started). Asking again while a request is open answers the open one."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import CurrentUser, RecentlySignedIn, Services
from api.http import json_response
from api.idempotency import run_idempotent
from api.resources.privacy.schemas import PrivacyRequestOut
from api.services import ApiServices
from domain.errors import NotFound
from domain.privacy.model import PrivacyRequest, RequestKind
from domain.privacy.ports import PrivacyDesk
from domain.unit_of_work import UnitOfWork

router = APIRouter(prefix="/privacy", tags=["privacy"])


def desk(svc: ApiServices) -> PrivacyDesk:
    if svc.privacy is None:
        raise NotFound(detail="data requests are not served here")
    return svc.privacy


@router.post("/exports", status_code=202, response_model=PrivacyRequestOut)
async def request_export(request: Request, user: RecentlySignedIn, svc: Services) -> Response:
    """Starts an export of everything the service holds about the caller (GDPR Art. 15, 20);
    a silent push (`kind: privacy`) and this request's `GET` say when it is ready. While one is
    running, and for a day after one completed, asking again answers that one."""

    async def effect(uow: UnitOfWork) -> Response:
        # Its own transaction: a request is kept whatever happens to the key's (a retry
        # without the stored answer joins the open request, and gets the same one back).
        opened = await desk(svc).open_from_app(RequestKind.EXPORT, user.uid)
        return await answer(request, svc, opened.request, status=202)

    return await run_idempotent(request, svc, user, effect)


@router.get("/requests/{request_id}", response_model=PrivacyRequestOut)
async def get_request(request_id: UUID, user: CurrentUser, svc: Services) -> Response:
    found = await desk(svc).of_subject(request_id, user.uid)
    return await answer(None, svc, found)


async def answer(
    request: Request | None, svc: ApiServices, found: PrivacyRequest, *, status: int = 200
) -> Response:
    download = await desk(svc).download(found)
    body = PrivacyRequestOut.of(found, download, svc.clock())
    headers = {}
    if request is not None:
        version = request.url.path.split("/", 2)[1]
        headers["Location"] = f"/{version}/privacy/requests/{found.id}"
    return json_response(body, status, headers)
