"""RFC 9457 problem details: the one shape every error takes on the wire."""

from __future__ import annotations

from typing import Any

import orjson
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
