"""Idempotent POSTs: the key, the effect and the stored response commit together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.deps import unit_of_work
from api.services import ApiServices
from domain import idempotency
from domain.identity import Principal
from domain.unit_of_work import UnitOfWork

_KEPT_HEADERS = ("content-type", "etag", "location")
CANONICAL = b"canonical-json:"


def _canonical(body: bytes) -> bytes:
    """The request's JSON with keys sorted and no spacing; the bytes as sent if not JSON (the
    route validated the body before this runs, so that happens only for an empty body)."""
    if not body:
        return body
    try:
        return CANONICAL + orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        return body


Effect = Callable[[UnitOfWork], Awaitable[Response]]


async def run_idempotent(
    request: Request, svc: ApiServices, principal: Principal, effect: Effect
) -> Response:
    """Run `effect` once per (user, Idempotency-Key); a retry gets the first response back.

    A domain error raised by the effect rolls back the key with the effect, so a retry is
    evaluated afresh (Stripe likewise keeps no result for requests refused before executing).
    """
    raw_key = request.headers.get("idempotency-key")
    async with unit_of_work(request) as uow:
        if raw_key is None:
            response = await effect(uow)
            await uow.commit()
            return response
        key = idempotency.validate_key(raw_key)
        if not await uow.idempotency.acquire(principal.uid, key):
            raise idempotency.in_progress()
        now = svc.clock()
        raw = await request.body()
        request_fingerprint = idempotency.fingerprint(
            request.method, request.url.path, _canonical(raw)
        )
        record = await uow.idempotency.find(
            principal.uid, key, not_before=now - idempotency.KEY_TTL
        )
        if record is not None:
            # The raw bytes' fingerprint matches keys stored before bodies were canonical;
            # it can go once those are older than the key TTL.
            legacy = idempotency.fingerprint(request.method, request.url.path, raw)
            stored = idempotency.replay_or_refuse(record, request_fingerprint, legacy)
            return Response(
                stored.body,
                status_code=stored.status,
                headers={**stored.headers, "Idempotent-Replayed": "true"},
            )
        response = await effect(uow)
        kept = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        await uow.idempotency.save(
            idempotency.IdempotencyRecord(
                principal.uid,
                key,
                request_fingerprint,
                idempotency.StoredResponse(response.status_code, kept, bytes(response.body)),
                now,
            )
        )
        await uow.commit()
        return response
