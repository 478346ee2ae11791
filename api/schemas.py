"""Base classes for the wire schemas of every API version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer


def _rfc3339_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[AwareDatetime, PlainSerializer(_rfc3339_utc, return_type=str)]
"""An instant, always written as RFC 3339 in UTC (`2026-11-23T06:08:22.198940Z`)."""


class RequestModel(BaseModel):
    """What clients send. Unknown fields (uid, ids, version, internal flags) are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(ResponseModel):
    next_cursor: str | None = None
    """Pass as `cursor` to get the next page; null on the last page."""
