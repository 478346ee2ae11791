"""Another user's record looks exactly like one that does not exist, on every route.

Each probe is called twice by Alice: once with an id Bob holds, once with an id nobody holds.
The answers must be the same (status, code, and the fields at fault), or the API tells Alice
what Bob has. A route that names a record and has no probe fails the coverage test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from app.bootstrap import Container
from tests.conftest import ApiUser
from tests.support.clock import TestClock
from tests.support.insights import a_suggestion

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BLOCKLIST = {"name": "Social", "items": [{"kind": "category", "value": "social"}]}
ANDROID = {"platform": "android", "app_version": "4.2.0"}


@dataclass(frozen=True)
class Bobs:
    blocklist: str
    schedule: str
    session: str
    device: str
    privacy_request: str
    insight: str
    suggest: Callable[[ApiUser], str]
    """Makes a schedule suggestion of another user's (the AI results are made by the app)."""


Probe = Callable[[TestClient, ApiUser, str, Bobs], Any]
"""Alice's request naming `record_id` (Bob's, or nobody's): returns the response."""
PROBES: dict[tuple[str, str, str], Probe] = {}


def probe(method: str, path: str, kind: str) -> Callable[[Probe], Probe]:
    def register(call: Probe) -> Probe:
        PROBES[method, path, kind] = call
        return call

    return register


@pytest.fixture(autouse=True)
def _now(clock: TestClock) -> None:
    clock.set(NOW)


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def bobs(client: TestClient, container: Container, bob: ApiUser) -> Bobs:
    blocklist = _ok(client.post("/v1/blocklists", headers=bob.headers, json=BLOCKLIST))["id"]
    schedule = _ok(
        client.post(
            "/v1/schedules",
            headers=bob.headers,
            json={
                "name": "Nights",
                "days": ["mon"],
                "start_local": "22:00",
                "end_local": "06:30",
                "timezone": "UTC",
                "blocklist_id": blocklist,
            },
        )
    )["id"]
    session = _ok(
        client.post("/v1/focus-sessions", headers=bob.headers, json={"planned_duration_minutes": 5})
    )["id"]
    _ok(client.put("/v1/devices/bobs-phone-01", headers=bob.headers, json=ANDROID))
    exported = client.post("/v1/privacy/exports", headers=bob.headers)
    assert exported.status_code == 202, exported.text
    suggestion = a_suggestion(client, container, bob)["id"]
    return Bobs(blocklist, schedule, session, "bobs-phone-01", exported.json()["id"], suggestion,
                lambda user: str(a_suggestion(client, container, user)["id"]))  # fmt: skip


def _unused(kind: str) -> str:
    return "nobodys-phone-01" if kind == "device" else str(uuid.uuid4())


def _bobs(kind: str, bobs: Bobs) -> str:
    return str(getattr(bobs, kind))


for area, kind in (("blocklists", "blocklist"), ("schedules", "schedule")):
    path = f"/v1/{area}/{{{kind}_id}}"
    probe("GET", path, kind)(lambda c, u, i, b, a=area: c.get(f"/v1/{a}/{i}", headers=u.headers))
    probe("PATCH", path, kind)(
        lambda c, u, i, b, a=area: c.patch(f"/v1/{a}/{i}", headers=u.headers, json={"name": "x"})
    )
    probe("DELETE", path, kind)(
        lambda c, u, i, b, a=area: c.delete(f"/v1/{a}/{i}", headers=u.headers)
    )

DEVICE = "/v1/devices/{installation_id}"
probe("GET", DEVICE, "device")(lambda c, u, i, b: c.get(f"/v1/devices/{i}", headers=u.headers))
probe("DELETE", DEVICE, "device")(
    lambda c, u, i, b: c.delete(f"/v1/devices/{i}", headers=u.headers)
)
probe("PUT", DEVICE, "device")(
    lambda c, u, i, b: c.put(f"/v1/devices/{i}", headers=u.headers, json=ANDROID)
)
probe("GET", "/v1/focus-sessions/{session_id}", "session")(
    lambda c, u, i, b: c.get(f"/v1/focus-sessions/{i}", headers=u.headers)
)
probe("POST", "/v1/focus-sessions/{session_id}/end", "session")(
    lambda c, u, i, b: c.post(
        f"/v1/focus-sessions/{i}/end",
        headers=u.headers,
        json={"outcome": "abandoned", "ended_at": NOW.isoformat()},
    )
)
# Ids inside bodies and queries.
probe("POST", "/v1/focus-sessions", "session")(
    lambda c, u, i, b: c.post(
        "/v1/focus-sessions", headers=u.headers, json={"planned_duration_minutes": 5, "id": i}
    )
)
probe("POST", "/v1/focus-sessions", "blocklist")(
    lambda c, u, i, b: c.post(
        "/v1/focus-sessions",
        headers=u.headers,
        json={"planned_duration_minutes": 5, "blocklist_id": i},
    )
)
probe("POST", "/v1/schedules", "blocklist")(
    lambda c, u, i, b: c.post(
        "/v1/schedules",
        headers=u.headers,
        json={
            "name": "Days",
            "days": ["tue"],
            "start_local": "09:00",
            "end_local": "12:00",
            "timezone": "UTC",
            "blocklist_id": i,
        },
    )
)


@probe("PATCH", "/v1/schedules/{schedule_id}", "blocklist")
def _repoint_a_schedule(client: TestClient, user: ApiUser, record_id: str, bobs: Bobs) -> Any:
    mine = _ok(
        client.post("/v1/schedules", headers=user.headers, json=_alices_schedule(client, user))
    )
    return client.patch(
        f"/v1/schedules/{mine['id']}", headers=user.headers, json={"blocklist_id": record_id}
    )


probe("PUT", "/v1/usage/{date}", "device")(
    lambda c, u, i, b: c.put(
        "/v1/usage/2026-03-10",
        headers=u.headers,
        json={"installation_id": i, "total_minutes": 10, "pickups": 1},
    )
)
probe("GET", "/v1/usage/{date}", "device")(
    lambda c, u, i, b: c.get(
        "/v1/usage/2026-03-10", headers=u.headers, params={"installation_id": i}
    )
)
probe("X-Installation-Id", "/v1/sync/requests", "device")(
    lambda c, u, i, b: c.post("/v1/sync/requests", headers=u.with_headers(X_Installation_Id=i))
)


def _alices_schedule(client: TestClient, user: ApiUser) -> dict[str, Any]:
    own = _ok(client.post("/v1/blocklists", headers=user.headers, json=BLOCKLIST))["id"]
    return {
        "name": "Mine",
        "days": ["wed"],
        "start_local": "09:00",
        "end_local": "12:00",
        "timezone": "UTC",
        "blocklist_id": own,
    }


def _seen(response: Any) -> tuple[int, Any, Any]:
    """What Alice learns: the status, the code and the fields at fault (ids aside)."""
    if response.status_code >= 400:
        body = response.json()
        fields = sorted((e["field"], e["code"]) for e in body.get("errors", []))
        return response.status_code, body["code"], fields
    return response.status_code, None, sorted(response.json()) if response.content else None


probe("GET", "/v1/insights/{insight_id}", "insight")(
    lambda c, u, i, b: c.get(f"/v1/insights/{i}", headers=u.headers)
)
probe("POST", "/v1/insights/{insight_id}/dismiss", "insight")(
    lambda c, u, i, b: c.post(f"/v1/insights/{i}/dismiss", headers=u.headers)
)


@probe("POST", "/v1/insights/{insight_id}/accept", "insight")
def _accept(client: TestClient, user: ApiUser, record_id: str, bobs: Bobs) -> Any:
    own = _ok(client.post("/v1/blocklists", headers=user.headers, json=BLOCKLIST))["id"]
    return client.post(
        f"/v1/insights/{record_id}/accept", headers=user.headers, json={"blocklist_id": own}
    )


@probe("POST", "/v1/insights/{insight_id}/accept", "blocklist")
def _accept_onto(client: TestClient, user: ApiUser, record_id: str, bobs: Bobs) -> Any:
    mine = bobs.suggest(user)
    return client.post(
        f"/v1/insights/{mine}/accept", headers=user.headers, json={"blocklist_id": record_id}
    )


probe("GET", "/v1/privacy/requests/{request_id}", "privacy_request")(
    lambda c, u, i, b: c.get(f"/v1/privacy/requests/{i}", headers=u.headers)
)


@pytest.mark.parametrize("route", sorted(PROBES), ids=" ".join)
def test_another_users_id_answers_as_an_unused_one(
    client: TestClient,
    make_user: Callable[[], ApiUser],
    bobs: Bobs,
    route: tuple[str, str, str],
) -> None:
    call = PROBES[route]
    kind = route[2]
    alice, carol = make_user(), make_user()  # one asks for Bob's id, one for nobody's

    with_bobs = call(client, alice, _bobs(kind, bobs), bobs)
    with_unused = call(client, carol, _unused(kind), bobs)

    assert _seen(with_bobs) == _seen(with_unused)


def test_bobs_records_are_untouched_by_alices_probes(
    client: TestClient, bob: ApiUser, bobs: Bobs, make_user: Callable[[], ApiUser]
) -> None:
    before = client.get("/v1/sync", headers=bob.headers).json()["changes"]
    alice = make_user()
    for route, call in PROBES.items():
        call(client, alice, _bobs(route[2], bobs), bobs)

    assert client.get("/v1/sync", headers=bob.headers).json()["changes"] == before


def test_every_route_that_names_a_record_has_a_probe(client: TestClient) -> None:
    named = {
        (method, route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "{" in route.path and route.path.startswith("/v1/")
        for method in route.methods
    }

    assert named <= {(method, path) for method, path, _ in PROBES}
