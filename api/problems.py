"""RFC 9457 problem details: the one shape every error takes on the wire."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, Field
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://docs.focus.app/problems/"


def problem_body(
    status: int, code: str, title: str, detail: str = "", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str = "",
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = problem_body(status, code, title, detail, **extra)
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is sent."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable, machine-readable; switch on this, not on title")
    detail: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="Validation errors: one per invalid field"
    )


def documented_problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: documented_problem("Malformed request (e.g. a garbled X-App-Version)"),
    401: documented_problem(
        "Missing, invalid, expired or revoked token; `recent_sign_in_required`: sign in again"
    ),
    403: documented_problem(
        "Not allowed; on a change where App Check is enforced: no valid `X-Firebase-AppCheck`"
        " token (`app_check_missing`, `app_check_invalid`)"
    ),
    404: documented_problem("No such resource for this user"),
    409: documented_problem(
        "Conflicts with the current state; `code` says how (e.g. idempotency_request_in_progress)"
    ),
    412: documented_problem("If-Match names a version that is no longer current"),
    413: documented_problem("Request body too large"),
    422: documented_problem("Invalid values; `errors` names each field"),
    426: documented_problem(
        "This app version is no longer supported; `upgrade_url` says where to go"
    ),
    429: {
        **documented_problem(
            "Too many requests from this user or address (`rate_limited`); retry after"
            " `Retry-After` seconds"
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    },
    503: documented_problem("A dependency (e.g. token verification) is unavailable; retry later"),
}
"""The error responses a /v1 operation may give; routes add their own 409 codes."""
