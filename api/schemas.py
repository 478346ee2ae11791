"""Base classes for the wire schemas of every API version, and the rules every input keeps.

Input rules, applied once here rather than field by field (docs/api-rules.md, "Input"):
- text holds no control characters (U+0000-U+001F, U+007F) and no unpaired surrogates:
  PostgreSQL cannot store NUL, and no field of ours is multi-line;
- integers and booleans are JSON integers and booleans: `true`, `"25"` and `0` for a boolean
  are refused (`RequestModel` subclasses must declare `StrictInt` / `StrictBool`);
- instants must exist in UTC: `0001-01-01T00:00:00+14:00` is refused, not an overflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from importlib import resources
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "FORBIDDEN_CHARACTERS",
    "PageOut",
    "RequestModel",
    "ResponseModel",
    "StrictBool",
    "StrictInt",
    "Timezone",
    "UtcDatetime",
    "check_text",
    "document_input_rules",
    "not_null",
]

FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
"""C0 controls, DEL and unpaired surrogates: no text the API takes may hold them."""
TEXT_PATTERN = r"^[^\x00-\x1F\x7F]*$"
"""The rule as the spec states it, on every request string without a pattern of its own."""
NON_BLANK_TEXT_PATTERN = r"^[^\x00-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x1F\x7F]*$"
"""Text that must not be empty: spaces around it are stripped, so one other character at least."""


def check_text(value: str) -> str:
    """The one rule for request text (bodies here; path, query and header text by their types)."""
    if FORBIDDEN_CHARACTERS.search(value):
        raise PydanticCustomError(
            "invalid_characters",
            "control characters (U+0000-U+001F, U+007F) and unpaired surrogates are not allowed",
        )
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise PydanticCustomError(
            "datetime_out_of_range", "this instant lies outside 0001-01-01..9999-12-31 in UTC"
        ) from exc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""An instant, always written as RFC 3339 in UTC (`2026-11-23T06:08:22.198940Z`).

Normalised to UTC when the model is built, so pydantic's own (Rust) serialiser writes it:
no Python call per timestamp on the way out. Instants outside the years 1-9999 in UTC are
refused here, so that no comparison or arithmetic later meets an overflow.
"""


TIMEZONE_MARK = "x-focus-timezone"


def timezone_component() -> dict[str, Any]:
    """`#/components/schemas/Timezone`: the IANA names of the tzdata release we ship.

    Read from the `tzdata` package (pinned), not from the machine's zoneinfo, so that the spec
    is the same wherever it is generated. The server may know a few more (system zones).
    """
    names = resources.files("tzdata").joinpath("zones").read_text().split()
    return {
        "type": "string",
        "enum": sorted(names),
        "description": "An IANA timezone name",
        "examples": ["Europe/Berlin"],
    }


Timezone = Annotated[
    str,
    StringConstraints(max_length=64),
    WithJsonSchema({"type": "string", "maxLength": 64, TIMEZONE_MARK: True}),
]
"""An IANA timezone name (checked by the domain); the spec refers to the list of them
(api.openapi replaces each marked schema by a reference to the Timezone component)."""


def not_null(schema: dict[str, Any]) -> None:
    """For a merge patch's optional field that refuses null: the spec says so (no null branch).

    `Field(default=None, json_schema_extra=not_null)`: absent means unchanged, null is refused.
    """
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _lax_scalars(schema: Any) -> Iterator[str]:
    """`int` and `bool` validators of a core schema that would coerce (`"25"`, `true`)."""
    if isinstance(schema, Mapping):
        if schema.get("type") in ("int", "bool") and not schema.get("strict"):
            yield str(schema["type"])
        for item in schema.values():
            yield from _lax_scalars(item)
    elif isinstance(schema, list | tuple):
        for item in schema:
            yield from _lax_scalars(item)


def _document_text(schema: Any) -> None:
    if isinstance(schema, list):
        for item in schema:
            _document_text(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        blank_allowed = schema.get("minLength", 0) == 0
        schema["pattern"] = TEXT_PATTERN if blank_allowed else NON_BLANK_TEXT_PATTERN
    for key in ("anyOf", "oneOf", "allOf", "items", "additionalProperties"):
        _document_text(schema.get(key))


def document_input_rules(schema: dict[str, Any]) -> None:
    """The text rule on every string property of a request model's schema."""
    for prop in schema.get("properties", {}).values():
        _document_text(prop)


class RequestModel(BaseModel):
    """What clients send. Unknown fields (uid, ids, version, internal flags) are refused."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=document_input_rules
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__pydantic_complete__:
            return  # forward references: tests/unit/test_request_schemas.py checks it later
        lax = sorted(set(_lax_scalars(cls.__pydantic_core_schema__)))
        if lax:
            raise TypeError(
                f"{cls.__name__} takes {', '.join(lax)} leniently: declare StrictInt / "
                'StrictBool (api.schemas), so that `true` and `"25"` are refused'
            )

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        for text in _strings(value):
            check_text(text)
        return value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(ResponseModel):
    next_cursor: str | None = None
    """Pass as `cursor` to get the next page; null on the last page."""


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only; fullmatch


def _only_iso_dates(value: object) -> object:
    # Pydantic would also take unix timestamps (`0` as 1970-01-01); a calendar day is only
    # ever YYYY-MM-DD here.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a calendar date as YYYY-MM-DD")
    return value


LocalDate = Annotated[date, BeforeValidator(_only_iso_dates)]
"""A local calendar day (`2026-11-23`), in paths, queries and bodies alike."""
