"""If-Match / If-None-Match parsed and decided as RFC 9110 §13.1 says, for any header value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from api.http import preconditions
from domain.preconditions import Preconditions

VERSIONS = st.integers(min_value=0, max_value=40)


def _tag() -> st.SearchStrategy[str]:
    ours = VERSIONS.map(lambda v: f'"v{v}"')
    odd = st.sampled_from(['"v01"', '"v²"', '"V3"', "v3", '"v-1"', '""', '"v 3"', '"v3', "W/"])
    huge = st.integers(min_value=2**63 - 2, max_value=10**25).map(lambda v: f'"v{v}"')
    # Anything a header can carry: no surrogate (a header is bytes on the wire).
    characters = st.characters(exclude_characters=",\r\n\x00", exclude_categories=("Cs",))
    text = st.text(alphabet=characters, max_size=8)
    plain = st.one_of(ours, odd, huge, text)
    return st.one_of(plain, plain.map(lambda t: "W/" + t), st.just("*"))


TAG_LISTS = st.lists(_tag(), min_size=1, max_size=4).map(", ".join)


def _request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "PATCH", "path": "/", "headers": raw})


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _if_match_holds(header: str, current: int | None) -> bool:
    """RFC 9110 §13.1.1, written out: `*` needs a current record; else some tag must be
    strongly equal (same opaque tag, neither weak) to the current one."""
    tags = _tags(header)
    if "*" in tags:
        return current is not None
    return current is not None and f'"v{current}"' in tags


def _if_none_match_holds(header: str, current: int | None) -> bool:
    """§13.1.2: `*` fails when a record exists; else no tag may weakly equal the current one."""
    tags = _tags(header)
    if "*" in tags:
        return current is None
    return current is None or all(t.removeprefix("W/") != f'"v{current}"' for t in tags)


def _decide(conditions: Preconditions | None, current: int | None) -> bool:
    return conditions is None or conditions.hold_for(current)


@given(header=TAG_LISTS, current=st.one_of(st.none(), VERSIONS))
def test_if_match_passes_exactly_when_a_tag_is_strongly_current(
    header: str, current: int | None
) -> None:
    decided = _decide(preconditions(_request(If_Match=header)), current)

    assert decided == _if_match_holds(header, current)


@given(header=TAG_LISTS, current=st.one_of(st.none(), VERSIONS))
def test_if_none_match_passes_exactly_when_no_tag_is_weakly_current(
    header: str, current: int | None
) -> None:
    decided = _decide(preconditions(_request(If_None_Match=header)), current)

    assert decided == _if_none_match_holds(header, current)


@given(if_match=TAG_LISTS, if_none_match=TAG_LISTS, current=st.one_of(st.none(), VERSIONS))
def test_both_headers_must_hold(if_match: str, if_none_match: str, current: int | None) -> None:
    conditions = preconditions(_request(If_Match=if_match, If_None_Match=if_none_match))

    assert _decide(conditions, current) == (
        _if_match_holds(if_match, current) and _if_none_match_holds(if_none_match, current)
    )


def test_no_condition_header_is_no_condition() -> None:
    assert preconditions(_request()) is None
