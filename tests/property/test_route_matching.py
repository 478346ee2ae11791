"""A versioned route's quick refusal by literal prefix answers as FastAPI's own match would.

`VersionedRoute.matches` turns a path away by the text before its first `{` (api/versioning.py).
For every versioned route, against paths made from every route's template (the paths apps
send, their near misses, and anything else), its answer is FastAPI's own: the same match, the
same path parameters.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import Match

from api.problems import PROBLEM_RESPONSES
from api.resources.router import AREAS, BUSIEST
from api.versioning import VersionedRoute, busiest_first, versioned_routers
from api.versions import CHANGES, VERSIONS
from tests.property.budget import DERANDOMIZE, EXAMPLES, PHASES

ROUTES = [
    route
    for router in versioned_routers(AREAS, VERSIONS, CHANGES, responses=PROBLEM_RESPONSES)
    for route in router.routes
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=12)


def sample(template: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: value, template)


def near_misses(path: str) -> list[str]:
    return [path, path + "/", path.rstrip("/") + "/x", path.upper(), path[:-1], "/" + path]


PATHS = st.one_of(
    st.builds(sample, st.sampled_from([r.path for r in ROUTES]), SEGMENT),
    st.builds(
        lambda template, value, n: near_misses(sample(template, value))[n],
        st.sampled_from([r.path for r in ROUTES]),
        SEGMENT,
        st.integers(0, 5),
    ),
    st.lists(SEGMENT, max_size=4).map(lambda parts: "/" + "/".join(parts)),
)


def scope(method: str, path: str, root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": root_path}


def test_every_versioned_route_refuses_by_prefix() -> None:
    assert ROUTES
    assert all(isinstance(route, VersionedRoute) for route in ROUTES)


@settings(max_examples=EXAMPLES * 20, derandomize=DERANDOMIZE, phases=PHASES, deadline=None)
@given(path=PATHS, method=st.sampled_from(METHODS), root=st.sampled_from(["", "/api"]))
def test_a_versioned_route_matches_exactly_as_fastapis_own_match(
    path: str, method: str, root: str
) -> None:
    full = root + path
    for route in ROUTES:
        ours = route.matches(scope(method, full, root))
        fastapis = APIRoute.matches(route, scope(method, full, root))

        assert ours[0] == fastapis[0], (route.path, full)
        assert ours[1].get("path_params") == fastapis[1].get("path_params"), (route.path, full)


@settings(max_examples=EXAMPLES * 20, derandomize=DERANDOMIZE, phases=PHASES, deadline=None)
@given(path=PATHS, method=st.sampled_from(METHODS))
def test_no_path_matches_two_versioned_templates(path: str, method: str) -> None:
    """What lets `busiest_first` reorder the versioned routes without changing an answer:
    only routes of one template (one path, several methods) ever match a request."""
    templates = {r.path for r in ROUTES if r.matches(scope(method, path))[0] is not Match.NONE}
    assert len(templates) <= 1, (path, templates)


def test_the_busiest_routes_are_matched_first_each_path_in_its_order() -> None:
    ordered = busiest_first(ROUTES, BUSIEST)
    assert sorted(map(id, ordered)) == sorted(map(id, ROUTES))  # the same routes
    leading = [r.name for r in ordered[: len(BUSIEST) + 4]]
    assert set(BUSIEST) <= set(leading)
    for path in {r.path for r in ROUTES}:
        before = [r for r in ROUTES if r.path == path]
        after = [r for r in ordered if r.path == path]
        assert after == before  # the same order within a path: the same 405
