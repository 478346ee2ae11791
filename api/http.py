"""Resource responses: ETags, conditional requests, JSON bytes out."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

from domain.preconditions import Preconditions

JSON = "application/json"


def etag(version: int) -> str:
    """A strong ETag from the record's version, which only grows."""
    return f'"v{version}"'


_OUR_TAG = re.compile(r'"v(0|[1-9][0-9]{0,18})"')
"""The only entity-tags this API issues: a version in ASCII digits, no leading zero."""
_MAX_VERSION = 2**63 - 1


def _entity_tags(request: Request, name: str) -> list[str] | None:
    """The tags of every `name` header line (RFC 9110 lists: lines join with commas)."""
    lines = request.headers.getlist(name)
    if not lines:
        return None
    # Our tags never hold a comma, so splitting on commas cannot cut one of ours in two.
    return [tag.strip() for line in lines for tag in line.split(",") if tag.strip()]


def _version_in(tag: str, *, weak: bool) -> int | None:
    """The version `tag` names if this API could have issued it; weak tags only if `weak`."""
    if tag.startswith("W/"):
        if not weak:
            return None  # strong comparison (If-Match): a weak tag matches nothing
        tag = tag[2:]
    found = _OUR_TAG.fullmatch(tag)
    if found is None:
        return None
    version = int(found.group(1))
    return version if version <= _MAX_VERSION else None


def _versions(tags: list[str], *, weak: bool) -> frozenset[int]:
    return frozenset(v for tag in tags if (v := _version_in(tag, weak=weak)) is not None)


def preconditions(request: Request) -> Preconditions | None:
    """The client's `If-Match` / `If-None-Match` on a write, or None when it sent neither.

    A tag we could never have issued matches nothing: `If-Match: "v01"` or `W/"v1"` fails.
    """
    if_match = _entity_tags(request, "if-match")
    if_none_match = _entity_tags(request, "if-none-match")
    if if_match is None and if_none_match is None:
        return None
    match_any = if_match is not None and "*" in if_match
    none_match_any = if_none_match is not None and "*" in if_none_match
    return Preconditions(
        match=None if if_match is None or match_any else _versions(if_match, weak=False),
        match_any=match_any,
        none_match=_versions(if_none_match or [], weak=True),
        none_match_any=none_match_any,
    )


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
        if_none_match = _entity_tags(request, "if-none-match")
        # Weak comparison (RFC 9110 §13.1.2): `W/"v3"` stands for `"v3"` here.
        if if_none_match is not None and (
            "*" in if_none_match or version in _versions(if_none_match, weak=True)
        ):
            return Response(status_code=304, headers={"ETag": tag})
    return json_response(payload, status, {"ETag": tag, **(headers or {})})


def location_of(request: Request, item_id: object) -> str:
    """`Location` of an item created by POST to a collection, in the version the client uses."""
    return f"{request.url.path.rstrip('/')}/{item_id}"
