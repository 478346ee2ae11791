"""Resource responses: ETags, conditional requests, JSON bytes out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"


def etag(version: int) -> str:
    """A strong ETag from the record's version, which only grows."""
    return f'"v{version}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def expected_version(request: Request) -> int | None:
    """The version the client's `If-Match` names, or None when it sent none.

    A tag we could never have issued matches nothing: -1, which no record has.
    """
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    for tag in _tags(header):
        inner = tag.strip('"')
        if inner.startswith("v") and inner[1:].isdigit():
            return int(inner[1:])
    return -1


def json_response(
    payload: BaseModel | list[Any] | dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        to_json(payload, by_alias=True), status_code=status, media_type=JSON, headers=headers
    )


def resource_response(
    request: Request,
    payload: BaseModel,
    version: int,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The resource with its ETag; `304 Not Modified` when the client already has this version."""
    tag = etag(version)
    if request.method in ("GET", "HEAD"):
        if_none_match = request.headers.get("if-none-match")
        if if_none_match and (if_none_match.strip() == "*" or tag in _tags(if_none_match)):
            return Response(status_code=304, headers={"ETag": tag})
    return json_response(payload, status, {"ETag": tag, **(headers or {})})


def location_of(request: Request, item_id: object) -> str:
    """`Location` of an item created by POST to a collection, in the version the client uses."""
    return f"{request.url.path.rstrip('/')}/{item_id}"
