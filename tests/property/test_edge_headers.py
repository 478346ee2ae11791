"""The edge reads its request headers in one pass (api/middleware.py `read_headers`): for any
list of header lines, duplicates and odd bytes included, it finds what `Headers.get` would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from api.middleware import READ_HEADERS, read_headers
from tests.property.budget import DERANDOMIZE, EXAMPLES, PHASES

NAMES = st.sampled_from([*sorted(READ_HEADERS), b"host", b"authorization", b"x-request-ids", b""])
LINES = st.lists(st.tuples(NAMES, st.binary(max_size=40)), max_size=12)


@settings(max_examples=EXAMPLES * 20, derandomize=DERANDOMIZE, phases=PHASES, deadline=None)
@given(raw=LINES)
def test_the_one_pass_read_finds_what_headers_get_finds(raw: list[tuple[bytes, bytes]]) -> None:
    found = read_headers(raw)
    starlette = Headers(raw=raw)
    for name in READ_HEADERS:
        assert found.get(name) == starlette.get(name.decode()), name
