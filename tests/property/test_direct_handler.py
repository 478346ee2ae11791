"""A route served by `direct_handler` answers exactly as FastAPI's own driver would.

For every operation of the committed spec (openapi/v1.json) whose route takes the direct
handler (api/direct_handler.py), schemathesis makes requests as test_api_schema.py does:
valid and constraint-breaking path, query and header values, half of the valid ones on
records that exist. Each request goes to the app twice, once through the direct handler and
once through FastAPI's driver (`VersionedRoute.framework_app`), and the two answers must be
the same: status, headers (but the request id) and body bytes.

Reads go twice to one user. A change (DELETE, a POST without a body) goes to two new users
alike, one per driver, and ids, times and uids are masked before comparing. Each request is
also sent with a token that is not one, to both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
from starlette.testclient import TestClient

from api.problems import PROBLEM_RESPONSES
from api.resources.router import AREAS
from api.versioning import VersionedRoute, versioned_routers
from api.versions import CHANGES, VERSIONS
from tests.conftest import ApiUser
from tests.property.budget import ONE_USER_EACH
from tests.property.test_api_schema import _on_existing_records, app, schema, send

__all__ = ["app"]  # the fixture, shared with test_api_schema.py

DIRECT = sorted(
    {
        route.name
        for router in versioned_routers(AREAS, VERSIONS, CHANGES, responses=PROBLEM_RESPONSES)
        for route in router.routes
        if isinstance(route, VersionedRoute) and route.app is not route.framework_app
    }
)
HOT_READS = {"get_me", "get_focus_session", "list_focus_sessions", "sync", "get_stats"}


def test_the_hot_reads_take_the_direct_handler() -> None:
    """A hot read that stops fitting the plain shape (a dependency with parameters of its
    own, an endpoint returning a model) would silently lose 7 % of its CPU: it fails here."""
    assert set(DIRECT) >= HOT_READS, sorted(HOT_READS - set(DIRECT))


@contextmanager
def through_fastapis_driver(client: TestClient, method: str, path: str) -> Iterator[None]:
    routes = [
        r
        for r in client.app.router.routes  # type: ignore[attr-defined]
        if isinstance(r, VersionedRoute) and r.path == path and method in r.methods
    ]
    [route] = routes
    direct = route.app
    route.app = route.framework_app
    try:
        yield
    finally:
        route.app = direct


_MASKS = [
    (
        re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
        b"<id>",
    ),
    (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), b"<time>"),
]


def answer(response: Any, *uids: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body: bytes = response.content
    headers = [(k, v) for k, v in response.headers.items() if k != "x-request-id"]
    if uids:
        for uid in uids:
            body = body.replace(uid.encode(), b"<uid>")
        for pattern, mask in _MASKS:
            body = pattern.sub(mask, body)
        headers = [(k, _MASKS[0][0].sub(b"<id>", v.encode()).decode()) for k, v in headers]
    return response.status_code, headers, body


@schema.include(operation_id=DIRECT).parametrize()
@ONE_USER_EACH
def test_the_direct_handler_answers_as_fastapis_driver(
    case: schemathesis.Case, app: TestClient, alice: ApiUser, make_user: Callable[[], ApiUser]
) -> None:
    # The operation's method: schemathesis also sends others to its path (405 expected).
    method, path = case.operation.method.upper(), case.operation.path
    if method == "GET":
        user = _on_existing_records(app, make_user, case) or alice
        direct = answer(send(app, case, {"Authorization": f"Bearer {user.token}"}))
        with through_fastapis_driver(app, method, path):
            framework = answer(send(app, case, {"Authorization": f"Bearer {user.token}"}))
    else:
        first, second = make_user(), make_user()
        made = send(app, case, {"Authorization": f"Bearer {first.token}"})
        direct = answer(made, first.uid)
        with through_fastapis_driver(app, method, path):
            made = send(app, case, {"Authorization": f"Bearer {second.token}"})
            framework = answer(made, second.uid)
    assert direct == framework
    # Who calls is decided before the parameters: a bad token is 401 whatever else is wrong.
    refused = answer(send(app, case, {"Authorization": "Bearer not-a-token"}))
    with through_fastapis_driver(app, method, path):
        assert answer(send(app, case, {"Authorization": "Bearer not-a-token"})) == refused
