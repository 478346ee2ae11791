"""Opaque cursors for keyset pagination, and the limit clamp."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

import orjson
from fastapi import Query

from domain.common import PageRequest
from domain.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
"""What every cursor we issue looks like: unpadded URL-safe base64 (ASCII)."""
_CURSOR = re.compile(r"[A-Za-z0-9_-]*")
_POSITION = re.compile(r"[\x21-\x7e]*")
"""Every position we encode is printable ASCII: ids, dates, versions."""


def encode_cursor(position: tuple[str, ...] | None) -> str | None:
    if position is None:
        return None
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode().rstrip("=")


def decode_cursor(cursor: str | None, field: str = "cursor") -> tuple[str, ...] | None:
    """The position a cursor names; anything we could not have issued is refused."""
    if not cursor:
        return None
    invalid = ValidationFailed.on(field, "invalid_cursor", "not a cursor this API issued")
    if not _CURSOR.fullmatch(cursor):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise invalid from exc
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _POSITION.fullmatch(v) for v in value
    ):
        raise invalid
    return tuple(value)


CursorQuery = Annotated[
    str | None,
    Query(
        description="next_cursor of the page before; none: the first page",
        json_schema_extra={"pattern": CURSOR_PATTERN},
    ),
]
"""`?cursor=`: the spec states what a cursor looks like; `decode_cursor` refuses the rest."""

LimitQuery = Annotated[
    int | None,
    Query(
        description=f"Page size: values outside 1-{MAX_LIMIT} are clamped (default {DEFAULT_LIMIT})"
    ),
]
"""`?limit=`: clamped rather than refused, so an app asking for too much still gets a page."""


def clamp_limit(limit: int | None) -> int:
    return DEFAULT_LIMIT if limit is None else max(1, min(limit, MAX_LIMIT))


def page_request(cursor: str | None, limit: int | None) -> PageRequest:
    return PageRequest(limit=clamp_limit(limit), after=decode_cursor(cursor))
