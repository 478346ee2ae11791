"""One mapping from errors to problem+json responses. No stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api import context
from api.problems import problem_response
from api.rate_limits import RateLimited
from domain.errors import (
    AuthUnavailable,
    Conflict,
    DomainError,
    Forbidden,
    LimitExceeded,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
    ValidationFailed,
)
from domain.idempotency import IdempotencyKeyReused
from domain.identity import RecentSignInRequired
from domain.staff import RoleRequired

log = logging.getLogger("api.errors")

# Most specific first: the first type the error is an instance of decides.
_STATUS: list[tuple[type[DomainError], int, str]] = [
    (ValidationFailed, 422, "The request has invalid values"),
    (IdempotencyKeyReused, 422, "Idempotency-Key reused for another request"),
    (NotFound, 404, "Not found"),
    (PreconditionFailed, 412, "The resource has changed"),
    (Conflict, 409, "Conflict with the current state"),
    (LimitExceeded, 422, "A limit would be exceeded"),
    (Unauthenticated, 401, "Authentication required"),
    (Forbidden, 403, "Not allowed"),
    (AuthUnavailable, 503, "Authentication is unavailable"),
    (RateLimited, 429, "Too many requests"),
]


def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status, title = next(
        ((s, t) for kind, s, t in _STATUS if isinstance(exc, kind)), (400, "Bad request")
    )
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, ValidationFailed):
        extra["errors"] = [
            {"field": p.field, "code": p.code, "message": p.message}
            for p in exc.problems[:MAX_FIELD_ERRORS]
        ]
    if isinstance(exc, RoleRequired):
        extra["role"] = exc.role
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{exc.code}"'
        )
    if isinstance(exc, RecentSignInRequired):  # RFC 9470 step-up authentication
        headers["WWW-Authenticate"] = (
            f'Bearer error="insufficient_user_authentication", max_age="{exc.max_age_seconds}"'
        )
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    detail = exc.detail
    if isinstance(exc, AuthUnavailable):
        # Why tokens cannot be checked is for the on-call engineer, not for the client.
        log.error("auth.unavailable", extra={"detail": exc.detail})
        headers["Retry-After"] = "5"
        detail = "try again shortly"
    return problem_response(status, exc.code, title, detail, headers=headers, **extra)


def _field_path(loc: tuple[Any, ...]) -> str:
    """`("body", "items", 3, "value")` → `items.3.value`; `("query", "to")` → `to`.

    Bare names, as the domain's own validation errors use them.
    """
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


MAX_FIELD_ERRORS = 50
"""The `errors` listed at most: a body of 10,000 wrong items gets a short answer, not a megabyte;
`detail` still says how many fields are invalid."""


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    found = exc.errors()
    errors = [
        {
            "field": _field_path(tuple(e.get("loc", ()))),
            "code": e.get("type", "invalid"),
            "message": e.get("msg", "invalid value"),
        }
        for e in found[:MAX_FIELD_ERRORS]
    ]
    return problem_response(
        422,
        "validation_failed",
        "The request has invalid values",
        errors[0]["message"] if len(found) == 1 else f"{len(found)} fields are invalid",
        errors=errors,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    return problem_response(
        exc.status_code, code, detail or "Error", headers=dict(exc.headers) if exc.headers else None
    )


def _unavailable(request: Request, exc: Exception) -> Response:
    # The transaction died with the connection: nothing was written, so a retry is safe.
    log.error("api.store_unavailable", extra={"path": request.url.path, "error": repr(exc)})
    return problem_response(
        503,
        "service_unavailable",
        "A store is unavailable",
        "nothing was saved; try again shortly",
        headers={"Retry-After": "2"},
    )


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("api.unhandled_error", extra={"path": request.url.path})
    # Starlette answers unhandled errors from its outermost middleware, outside the edge
    # middleware that stamps every other answer: the id the client quotes to support is set
    # here, from the request's context.
    request_id = context.request_id.get()
    return problem_response(
        500,
        "internal_error",
        "Something went wrong on our side",
        f"quote request id {request_id} when reporting this" if request_id else "",
        headers={"X-Request-Id": request_id} if request_id else None,
    )


def install_error_handlers(app: FastAPI, unavailable: tuple[type[Exception], ...] = ()) -> None:
    for kind in unavailable:
        app.add_exception_handler(kind, _unavailable)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
