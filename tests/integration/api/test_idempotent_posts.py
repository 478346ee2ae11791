"""Every POST of /v1 honours Idempotency-Key, and compares requests by their parameters.

A retry of the same request (the same JSON, keys in any order, any spacing) gets the first
answer back; another request under the same key is refused. A POST route that ignores the key
fails `test_every_post_route_replays_a_retry`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import pytest
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from app.bootstrap import Container
from domain.idempotency import fingerprint
from tests.conftest import ApiUser
from tests.support.clock import TestClock
from tests.support.insights import a_suggestion

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BLOCKLIST = {"name": "Social", "items": [{"kind": "category", "value": "social"}]}

# Per POST route: (path, body, the same body with one parameter changed), given a user.
Request = tuple[str, dict[str, Any] | None, dict[str, Any] | None]
POSTS: dict[str, Callable[[TestClient, ApiUser], Request]] = {}


def post_route(path: str) -> Callable[[Callable[..., Request]], Callable[..., Request]]:
    def register(make: Callable[..., Request]) -> Callable[..., Request]:
        POSTS[path] = make
        return make

    return register


@pytest.fixture(autouse=True)
def _now(clock: TestClock) -> None:
    clock.set(NOW)


_SUGGEST: list[Callable[[ApiUser], str]] = []
"""Makes a schedule suggestion of the user's (AI results are made by the app, not posted)."""


@pytest.fixture(autouse=True)
def _suggestions(client: TestClient, container: Container) -> Iterator[None]:
    _SUGGEST.append(lambda user: str(a_suggestion(client, container, user)["id"]))
    yield
    _SUGGEST.clear()


def _blocklist_id(client: TestClient, user: ApiUser) -> str:
    response = client.post("/v1/blocklists", headers=user.headers, json=BLOCKLIST)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@post_route("/v1/blocklists")
def _blocklist(client: TestClient, user: ApiUser) -> Request:
    return "/v1/blocklists", BLOCKLIST, {**BLOCKLIST, "name": "News"}


@post_route("/v1/schedules")
def _schedule(client: TestClient, user: ApiUser) -> Request:
    body = {
        "name": "Nights",
        "days": ["mon", "tue"],
        "start_local": "22:00",
        "end_local": "06:30",
        "timezone": "Europe/Berlin",
        "blocklist_id": _blocklist_id(client, user),
    }
    return "/v1/schedules", body, {**body, "name": "Days"}


@post_route("/v1/focus-sessions")
def _start(client: TestClient, user: ApiUser) -> Request:
    body = {"planned_duration_minutes": 25, "mode": "normal"}
    return "/v1/focus-sessions", body, {**body, "planned_duration_minutes": 26}


@post_route("/v1/focus-sessions/{session_id}/end")
def _end(client: TestClient, user: ApiUser) -> Request:
    started = client.post(
        "/v1/focus-sessions", headers=user.headers, json={"planned_duration_minutes": 25}
    )
    assert started.status_code == 201, started.text
    body = {"outcome": "abandoned", "ended_at": NOW.isoformat()}
    path = f"/v1/focus-sessions/{started.json()['id']}/end"
    return path, body, {**body, "outcome": "completed"}


@post_route("/v1/insights/{insight_id}/dismiss")
def _dismiss(client: TestClient, user: ApiUser) -> Request:
    return f"/v1/insights/{_SUGGEST[0](user)}/dismiss", None, None


@post_route("/v1/insights/{insight_id}/accept")
def _accept(client: TestClient, user: ApiUser) -> Request:
    path = f"/v1/insights/{_SUGGEST[0](user)}/accept"
    body = {"blocklist_id": _blocklist_id(client, user), "name": "Mornings"}
    return path, body, {**body, "name": "Deep work"}


@post_route("/v1/sync/requests")
def _sync_request(client: TestClient, user: ApiUser) -> Request:
    return "/v1/sync/requests", None, None


@post_route("/v1/privacy/exports")
def _export_request(client: TestClient, user: ApiUser) -> Request:
    return "/v1/privacy/exports", None, None


def _reordered(body: dict[str, Any] | None) -> bytes:
    """The same parameters, keys in reverse order (nested too) and spaced out."""

    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value

    if body is None:
        return b""
    return orjson.dumps(reverse(body), option=orjson.OPT_INDENT_2)


def _send(client: TestClient, user: ApiUser, path: str, body: bytes, key: str) -> Any:
    headers = user.with_headers(Idempotency_Key=key, Content_Type="application/json")
    return client.post(path, headers=headers, content=body)


def _post_routes(client: TestClient) -> set[str]:
    return {
        route.path
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/v1/") and "POST" in route.methods
    }


def test_every_post_route_is_covered(client: TestClient) -> None:
    assert _post_routes(client) == set(POSTS)


@pytest.mark.parametrize("route", sorted(POSTS))
def test_every_post_route_replays_a_retry(
    client: TestClient, make_user: Callable[[], ApiUser], route: str
) -> None:
    user = make_user()
    path, body, _ = POSTS[route](client, user)
    key = f"retry-{uuid.uuid4()}"

    first = _send(client, user, path, orjson.dumps(body) if body else b"", key)
    retry = _send(client, user, path, _reordered(body), key)

    assert first.status_code in (200, 201, 202, 204), first.text
    assert retry.status_code == first.status_code
    assert retry.content == first.content
    assert retry.headers["Idempotent-Replayed"] == "true"
    if route not in NO_RECORD:
        changes = client.get("/v1/sync", headers=user.headers).json()["changes"]
        assert max(c["version"] for c in changes) <= first.json()["version"]


NO_PARAMETERS = {"/v1/sync/requests", "/v1/privacy/exports", "/v1/insights/{insight_id}/dismiss"}
"""POST routes with no body: no other parameters to send under a used key."""
NO_RECORD = {"/v1/privacy/exports", "/v1/insights/{insight_id}/dismiss"}
"""POST routes that answer no record of the user (a request; 204): no version to compare."""


@pytest.mark.parametrize("route", sorted(set(POSTS) - NO_PARAMETERS))
def test_the_same_key_with_other_parameters_is_refused(
    client: TestClient, make_user: Callable[[], ApiUser], route: str
) -> None:
    user = make_user()
    path, body, other = POSTS[route](client, user)
    key = f"reuse-{uuid.uuid4()}"

    _send(client, user, path, orjson.dumps(body), key)
    reused = _send(client, user, path, orjson.dumps(other), key)

    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


def test_a_sync_request_retried_asks_the_devices_once(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    headers = alice.with_headers(Idempotency_Key="sync-1")

    first = client.post("/v1/sync/requests", headers=headers)
    retry = client.post("/v1/sync/requests", headers=headers)

    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    with psycopg.connect(database_url) as conn:
        (events,) = conn.execute(
            "SELECT count(*) FROM outbox_events WHERE user_id = %s AND type = 'sync.requested'",
            (alice.uid,),
        ).fetchone() or (0,)
    assert events == 1


def test_a_key_stored_before_bodies_were_compared_by_parameters_still_replays(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    raw = b'{"name": "Social", "items": [{"value": "social", "kind": "category"}]}'
    first = _send(client, alice, "/v1/blocklists", raw, "old-key")
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE idempotency_keys SET fingerprint = %s WHERE user_id = %s AND key = %s",
            (fingerprint("POST", "/v1/blocklists", raw), alice.uid, "old-key"),
        )

    retry = _send(client, alice, "/v1/blocklists", raw, "old-key")

    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
