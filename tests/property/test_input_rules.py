"""The input rules hold everywhere by construction: the spec states them for every field, the
routes' headers are documented, request models cannot take integers leniently, and every
pattern matches whole values in ASCII. No database needed."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import given, settings
from hypothesis import strategies as st

from api import openapi as documented
from api.resources.router import AREAS
from api.schemas import RequestModel
from app.spec import openapi_document
from domain.blocklists.model import BlockItem, ItemKind, normalise_item
from domain.devices.model import (
    INSTALLATION_ID_PATTERN,
    ApnsEnvironment,
    DeviceRegistration,
    Platform,
    validate_installation_id,
    validate_registration,
)
from domain.errors import ValidationFailed
from domain.schedules.model import parse_local_time
from tests.property.budget import DERANDOMIZE, EXAMPLES

PRODUCTION = ApnsEnvironment.PRODUCTION


def _strings(schema: Any, at: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            yield at, schema
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in schema.get(key, []):
                yield from _strings(branch, at)
        for name, prop in schema.get("properties", {}).items():
            yield from _strings(prop, f"{at}.{name}")
        yield from _strings(schema.get("items"), f"{at}[]")


def test_every_request_string_in_the_spec_states_what_it_takes() -> None:
    """A pattern (no control characters, or the field's own), a format or an enum: a client
    generator builds valid values, and the text rule is part of the contract."""
    spec = openapi_document()
    schemas = spec["components"]["schemas"]
    unstated = [
        f"{name}{at}"
        for name, schema in schemas.items()
        if not name.endswith("Out") and "additionalProperties" in schema
        for at, string in _strings(schema, "")
        if not {"pattern", "format", "enum"} & set(string)
    ]
    assert not unstated


def _routes() -> list[APIRoute]:
    return [r for area in AREAS for r in area.routes if isinstance(r, APIRoute)]


def test_the_headers_each_route_reads_are_documented() -> None:
    reads = {route.name: inspect.getsource(route.endpoint) for route in _routes()}
    conditional_reads = {
        n for n, src in reads.items() if "resource_response(" in src and n.startswith("get_")
    }
    conditional_writes = {n for n, src in reads.items() if "preconditions(request)" in src}
    idempotent = {n for n, src in reads.items() if "run_idempotent(" in src}

    assert conditional_reads == documented.CONDITIONAL_READS
    assert conditional_writes == documented.CONDITIONAL_WRITES
    assert idempotent == documented.IDEMPOTENT


def test_a_request_model_cannot_take_integers_or_booleans_leniently() -> None:
    with pytest.raises(TypeError, match="StrictInt"):

        class Lenient(RequestModel):
            minutes: int

    with pytest.raises(TypeError, match="StrictBool"):

        class LenientFlags(RequestModel):
            flags: dict[str, bool]


Check = Callable[[str], object]
WHOLE_VALUE_CHECKS: dict[str, tuple[str, Check]] = {
    "installation id": (INSTALLATION_ID_PATTERN, validate_installation_id),
    "android package": (
        r"[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8}){1,3}",
        lambda v: normalise_item(BlockItem(ItemKind.ANDROID_PACKAGE, v), "value"),
    ),
    "web domain": (
        r"[a-z0-9]{1,10}\.[a-z]{2,6}",
        lambda v: normalise_item(BlockItem(ItemKind.WEB_DOMAIN, v), "value"),
    ),
    "local time": (r"([01][0-9]|2[0-3]):[0-5][0-9]", lambda v: parse_local_time(v, "start")),
    "apns token": (
        r"[0-9a-f]{64}",
        lambda v: validate_registration(
            DeviceRegistration(Platform.IOS, "4.2", push_token=v, apns_environment=PRODUCTION)
        ),
    ),
    "fcm token": (
        r"[A-Za-z0-9_:-]{100,110}",
        lambda v: validate_registration(DeviceRegistration(Platform.ANDROID, "4.2", push_token=v)),
    ),
}
SUFFIXES = st.sampled_from(["\n", "\r\n", "\x00", " x", "\t"])
"""What a `$` or a `\\d` let through: a final newline, controls, spaces."""


@settings(max_examples=EXAMPLES * 4, derandomize=DERANDOMIZE, deadline=None)
@given(
    which=st.sampled_from(sorted(WHOLE_VALUE_CHECKS)),
    data=st.data(),
    suffix=SUFFIXES,
)
def test_patterns_match_whole_values_only(which: str, data: st.DataObject, suffix: str) -> None:
    pattern, check = WHOLE_VALUE_CHECKS[which]
    valid = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda v: v.isascii()))

    check(valid)  # accepted as it is
    with pytest.raises(ValidationFailed):
        check(valid + suffix)


OTHER_DIGITS = st.sampled_from(["\u0660", "\u06f0", "\u0966", "\uff10", "\U0001d7ce"])
"""Zeros of other scripts: `\\d` and `int()` take them, our rules take ASCII digits only."""


@settings(max_examples=EXAMPLES, derandomize=DERANDOMIZE, deadline=None)
@given(
    time=st.from_regex(r"([01][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True),
    zero=OTHER_DIGITS,
    at=st.sampled_from([0, 1, 3, 4]),
)
def test_local_times_take_ascii_digits_only(time: str, zero: str, at: int) -> None:
    digit = chr(ord(zero) + int(time[at]))
    foreign = time[:at] + digit + time[at + 1 :]

    with pytest.raises(ValidationFailed):
        parse_local_time(foreign, "start_local")
