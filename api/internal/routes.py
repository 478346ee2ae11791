"""Pub/Sub push deliveries and Cloud Tasks calls.

Not part of the mobile API (no version, not in the spec). In production every call carries a
Google-signed OIDC token for our invoker service account; elsewhere the check is off unless
configured. A 2xx acknowledges; anything else asks Google to deliver again later.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from api.internal.schemas import PubSubPushEnvelope
from api.services import ApiServices
from domain.consumers import ReceivedMessage, Verdict
from domain.errors import NotFound, Unauthenticated

log = logging.getLogger("api.internal")

router = APIRouter(prefix="/internal", include_in_schema=False)


async def internal_caller(request: Request) -> ApiServices:
    svc: ApiServices = request.app.state.services
    if svc.internal_verifier is not None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(code="token_missing", detail="a Google OIDC token is required")
        await svc.internal_verifier.verify(token.strip())
    return svc


InternalCaller = Annotated[ApiServices, Depends(internal_caller)]


@router.post("/pubsub/legacy-sync", status_code=204)
async def receive_legacy_change(envelope: PubSubPushEnvelope, svc: InternalCaller) -> Response:
    """Declared before the generic route, which would otherwise take this path."""
    if svc.legacy_sync is None:
        raise NotFound(code="unknown_subscription", detail="legacy sync does not run here")
    return _answer(await svc.legacy_sync.receive(_received("legacy-sync", envelope)))


@router.post("/pubsub/{subscription}", status_code=204)
async def receive_pubsub_push(
    subscription: str, envelope: PubSubPushEnvelope, svc: InternalCaller
) -> Response:
    if svc.events is None:
        raise NotFound(code="unknown_subscription", detail="no consumers run in this process")
    return _answer(await svc.events.receive(_received(subscription, envelope)))


def _received(subscription: str, envelope: PubSubPushEnvelope) -> ReceivedMessage:
    try:
        data = base64.b64decode(envelope.message.data, validate=True)
    except (binascii.Error, ValueError):
        data = envelope.message.data.encode()  # recorded as poison by the consumer
    return ReceivedMessage(
        subscription=subscription,
        data=data,
        attributes=envelope.message.attributes,
        message_id=envelope.message.message_id,
        delivery_attempt=envelope.delivery_attempt,
    )


def _answer(verdict: Verdict) -> Response:
    if verdict is Verdict.RETRY:
        # Not a problem+json for a person to read: Pub/Sub only looks at the status.
        return Response(status_code=503, headers={"Retry-After": "10"})
    return Response(status_code=204)


@router.post("/tasks/{kind}", status_code=204)
async def run_task(
    kind: str, payload: Annotated[dict[str, Any], Body()], svc: InternalCaller, request: Request
) -> Response:
    if svc.tasks is None:
        raise NotFound(code="unknown_task_kind", detail="no task handlers run in this process")
    log.info(
        "tasks.received",
        extra={
            "kind": kind,
            "task": request.headers.get("x-cloudtasks-taskname"),
            "retry": request.headers.get("x-cloudtasks-taskretrycount"),
        },
    )
    try:
        await svc.tasks.run(kind, payload)
    except NotFound:
        raise
    except Exception:
        log.exception("tasks.failed", extra={"kind": kind})
        return Response(status_code=503, headers={"Retry-After": "10"})
    return Response(status_code=204)
