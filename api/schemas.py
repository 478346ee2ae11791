"""Base classes for the wire schemas of every API version."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""An instant, always written as RFC 3339 in UTC (`2026-11-23T06:08:22.198940Z`).

Normalised to UTC when the model is built, so pydantic's own (Rust) serialiser writes it:
no Python call per timestamp on the way out.
"""


class RequestModel(BaseModel):
    """What clients send. Unknown fields (uid, ids, version, internal flags) are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(ResponseModel):
    next_cursor: str | None = None
    """Pass as `cursor` to get the next page; null on the last page."""
