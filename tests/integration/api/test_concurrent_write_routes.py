"""Every write route, hit by several requests of one user at the same instant.

What a user would see afterwards: no acknowledged change lost, one winner where only one can
win (the others told why), a version per write. A write route without a scenario here fails
`test_every_write_route_has_a_concurrency_scenario`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from app.bootstrap import Container
from app.settings import Settings
from tests.conftest import ApiUser
from tests.support.clock import TestClock
from tests.support.concurrency import assert_versions_unique, at_once, statuses
from tests.support.insights import a_suggestion, hosted_app

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
N = 6
BLOCKLIST = {"name": "Social", "items": [{"kind": "category", "value": "social"}]}
ANDROID = {"platform": "android", "app_version": "4.2.0"}

Scenario = Callable[[TestClient, ApiUser], None]
SCENARIOS: dict[tuple[str, str], Scenario] = {}


def scenario(method: str, path: str) -> Callable[[Scenario], Scenario]:
    def register(check: Scenario) -> Scenario:
        SCENARIOS[method, path] = check
        return check

    return register


@pytest.fixture(autouse=True)
def _now(clock: TestClock) -> None:
    clock.set(NOW)


def _created(response: Any) -> Any:
    assert response.status_code == 201, response.text
    return response.json()


# -- the profile -------------------------------------------------------------------------


@scenario("PATCH", "/v1/me")
def _profile_fields_changed_at_once_all_stay(client: TestClient, user: ApiUser) -> None:
    patches: list[dict[str, Any]] = [
        {"consents": {"ai_features": True}},
        {"consents": {"analytics": True}},
        {"notifications": {"enabled": False}},
        {"notifications": {"quiet_hours": {"start": "22:00:00", "end": "07:00:00"}}},
        {"display_name": "Ada"},
        {"locale": "de-DE"},
        {"daily_goal_minutes": 90},
        {"timezone": "Asia/Tokyo"},
    ]

    answers = at_once(
        [lambda p=p: client.patch("/v1/me", headers=user.headers, json=p) for p in patches]
    )

    assert statuses(answers) == [200] * len(patches)
    assert_versions_unique(answers)
    me = client.get("/v1/me", headers=user.headers).json()
    assert me["consents"] == {"ai_features": True, "analytics": True}
    assert me["notifications"] == {
        "enabled": False,
        "quiet_hours": {"start": "22:00:00", "end": "07:00:00"},
    }
    assert (me["display_name"], me["locale"]) == ("Ada", "de-DE")
    assert (me["daily_goal_minutes"], me["timezone"]) == (90, "Asia/Tokyo")
    assert me["version"] == max(a.json()["version"] for a in answers)


# -- devices -----------------------------------------------------------------------------


@scenario("PUT", "/v1/devices/{installation_id}")
def _one_install_created_once_and_others_side_by_side(client: TestClient, user: ApiUser) -> None:
    create_only = user.with_headers(If_None_Match="*")
    same = at_once(
        [lambda: client.put("/v1/devices/shared-0001", headers=create_only, json=ANDROID)] * N
    )
    apart = at_once(
        [
            lambda i=i: client.put(f"/v1/devices/own-000{i}", headers=user.headers, json=ANDROID)
            for i in range(N)
        ]
    )

    assert statuses(same) == [201] + [412] * (N - 1)
    assert statuses(apart) == [201] * N
    assert_versions_unique([*same, *apart])
    listed = client.get("/v1/devices", headers=user.headers).json()["items"]
    assert sorted(d["installation_id"] for d in listed) == sorted(
        ["shared-0001", *(f"own-000{i}" for i in range(N))]
    )


@scenario("DELETE", "/v1/devices/{installation_id}")
def _a_device_deleted_at_once_is_deleted_once(client: TestClient, user: ApiUser) -> None:
    client.put("/v1/devices/gone-0001", headers=user.headers, json=ANDROID)

    answers = at_once([lambda: client.delete("/v1/devices/gone-0001", headers=user.headers)] * N)

    assert statuses(answers) == [204] + [404] * (N - 1)
    assert client.get("/v1/devices/gone-0001", headers=user.headers).status_code == 404


# -- blocklists and schedules -------------------------------------------------------------


def _creates_at_once(client: TestClient, user: ApiUser, url: str, bodies: list[Any]) -> None:
    answers = at_once([lambda b=b: client.post(url, headers=user.headers, json=b) for b in bodies])

    assert statuses(answers) == [201] * len(bodies)
    assert_versions_unique(answers)
    listed = client.get(url, headers=user.headers).json()["items"]
    assert sorted(i["name"] for i in listed) == sorted(b["name"] for b in bodies)


def _edits_of_one_version(client: TestClient, user: ApiUser, url: str) -> None:
    etag = client.get(url, headers=user.headers).headers["ETag"]
    headers = user.with_headers(If_Match=etag)

    answers = at_once(
        [lambda i=i: client.patch(url, headers=headers, json={"name": f"n{i}"}) for i in range(N)]
    )

    assert statuses(answers) == [200] + [412] * (N - 1)
    (winner,) = [a.json() for a in answers if a.status_code == 200]
    assert client.get(url, headers=user.headers).json() == winner


def _deletes_at_once(client: TestClient, user: ApiUser, url: str) -> None:
    answers = at_once([lambda: client.delete(url, headers=user.headers)] * N)

    assert statuses(answers) == [204] + [404] * (N - 1)
    assert client.get(url, headers=user.headers).status_code == 404


def _blocklist(client: TestClient, user: ApiUser) -> str:
    return str(_created(client.post("/v1/blocklists", headers=user.headers, json=BLOCKLIST))["id"])


def _schedule(client: TestClient, user: ApiUser, name: str = "Nights") -> dict[str, Any]:
    return {
        "name": name,
        "days": ["mon", "tue"],
        "start_local": "22:00",
        "end_local": "06:30",
        "timezone": "Europe/Berlin",
        "blocklist_id": _blocklist(client, user),
    }


@scenario("POST", "/v1/blocklists")
def _blocklists_created_at_once_all_exist(client: TestClient, user: ApiUser) -> None:
    bodies = [{**BLOCKLIST, "name": f"List {i}"} for i in range(N)]
    _creates_at_once(client, user, "/v1/blocklists", bodies)


@scenario("PATCH", "/v1/blocklists/{blocklist_id}")
def _one_blocklist_edit_wins(client: TestClient, user: ApiUser) -> None:
    _edits_of_one_version(client, user, f"/v1/blocklists/{_blocklist(client, user)}")


@scenario("DELETE", "/v1/blocklists/{blocklist_id}")
def _a_blocklist_deleted_at_once(client: TestClient, user: ApiUser) -> None:
    _deletes_at_once(client, user, f"/v1/blocklists/{_blocklist(client, user)}")


@scenario("POST", "/v1/schedules")
def _schedules_created_at_once_all_exist(client: TestClient, user: ApiUser) -> None:
    bodies = [_schedule(client, user, f"S{i}") for i in range(N)]
    _creates_at_once(client, user, "/v1/schedules", bodies)


def _one_schedule(client: TestClient, user: ApiUser) -> str:
    created = _created(
        client.post("/v1/schedules", headers=user.headers, json=_schedule(client, user))
    )
    return f"/v1/schedules/{created['id']}"


@scenario("PATCH", "/v1/schedules/{schedule_id}")
def _one_schedule_edit_wins(client: TestClient, user: ApiUser) -> None:
    _edits_of_one_version(client, user, _one_schedule(client, user))


@scenario("DELETE", "/v1/schedules/{schedule_id}")
def _a_schedule_deleted_at_once(client: TestClient, user: ApiUser) -> None:
    _deletes_at_once(client, user, _one_schedule(client, user))


# -- focus sessions ----------------------------------------------------------------------


@scenario("POST", "/v1/focus-sessions")
def _starts_at_once_leave_one_session(client: TestClient, user: ApiUser) -> None:
    body = {"planned_duration_minutes": 25}
    keyed = user.with_headers(Idempotency_Key="start-once")

    retried = at_once([lambda: client.post("/v1/focus-sessions", headers=keyed, json=body)] * N)
    others = at_once(
        [lambda: client.post("/v1/focus-sessions", headers=user.headers, json=body)] * N
    )

    # The retries of one start: created once, replayed or told to wait; never two sessions.
    assert {a.status_code for a in retried} <= {201, 409}
    created = [a.json() for a in retried if a.status_code == 201]
    assert created
    assert all(c == created[0] for c in created)
    assert {a.json()["code"] for a in retried if a.status_code == 409} <= {
        "idempotency_request_in_progress"
    }
    # Other starts while that one runs: refused, all of them.
    assert statuses(others) == [409] * N
    listed = client.get("/v1/focus-sessions", headers=user.headers).json()["items"]
    assert [s["id"] for s in listed] == [created[0]["id"]]


@scenario("POST", "/v1/focus-sessions/{session_id}/end")
def _an_end_sent_at_once_ends_once(client: TestClient, user: ApiUser) -> None:
    started = _created(
        client.post(
            "/v1/focus-sessions",
            headers=user.headers,
            json={"planned_duration_minutes": 25, "id": str(uuid.uuid4())},
        )
    )
    end = {"outcome": "abandoned", "ended_at": NOW.isoformat()}
    url = f"/v1/focus-sessions/{started['id']}/end"

    answers = at_once([lambda: client.post(url, headers=user.headers, json=end)] * N)

    assert statuses(answers) == [200] * N
    assert len({a.text for a in answers}) == 1  # one end, the others its replay
    assert answers[0].json()["version"] > started["version"]


# -- usage and sync ----------------------------------------------------------------------


def _usage(installation_id: str, minutes: int) -> dict[str, Any]:
    return {"installation_id": installation_id, "total_minutes": minutes, "pickups": 3}


@scenario("PUT", "/v1/usage/{date}")
def _reports_of_every_device_kept(client: TestClient, user: ApiUser) -> None:
    phones = [f"phone-000{i}" for i in range(N)]
    for phone in phones:
        client.put(f"/v1/devices/{phone}", headers=user.headers, json=ANDROID)
    url = "/v1/usage/2026-03-10"

    apart = at_once(
        [lambda p=p: client.put(url, headers=user.headers, json=_usage(p, 60)) for p in phones]
    )
    one = at_once(
        [
            lambda m=m: client.put(url, headers=user.headers, json=_usage(phones[0], m))
            for m in range(100, 100 + N)
        ]
    )

    assert statuses(apart) == [201] * N
    assert statuses(one) == [200] * N
    assert_versions_unique([*apart, *one])
    last = max(one, key=lambda a: a.json()["version"]).json()
    params = {"from": "2026-03-10", "to": "2026-03-10"}
    listed = client.get("/v1/usage", headers=user.headers, params=params).json()["items"]
    assert len(listed) == N
    assert [r for r in listed if r["installation_id"] == phones[0]] == [last]


@scenario("POST", "/v1/sync/requests")
def _sync_requests_at_once_each_get_a_version(client: TestClient, user: ApiUser) -> None:
    answers = at_once([lambda: client.post("/v1/sync/requests", headers=user.headers)] * N)

    assert statuses(answers) == [202] * N
    assert_versions_unique(answers)


# -- data-subject requests ---------------------------------------------------------------


@scenario("POST", "/v1/privacy/exports")
def _exports_asked_at_once_are_one_request(client: TestClient, user: ApiUser) -> None:
    answers = at_once([lambda: client.post("/v1/privacy/exports", headers=user.headers)] * N)

    assert statuses(answers) == [202] * N
    assert len({a.json()["id"] for a in answers}) == 1


@scenario("DELETE", "/v1/me")
def _deletions_at_once_are_one_erasure(client: TestClient, user: ApiUser) -> None:
    answers = at_once([lambda: client.delete("/v1/me", headers=user.headers)] * N)

    # Each joins the one erasure, or finds the account already gone.
    accepted = [a for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code != 202]
    assert accepted
    assert len({a.json()["id"] for a in accepted}) == 1
    assert {(a.status_code, a.json()["code"]) for a in refused} <= {(401, "account_erased")}
    assert client.get("/v1/me", headers=user.headers).json()["code"] == "account_erased"


# -- AI results and consent ---------------------------------------------------------------

_SUGGEST: list[Callable[[ApiUser], str]] = []
"""Makes a schedule suggestion of the user's (AI results are made by the app, not posted)."""
_HOSTED: list[TestClient] = []
"""The app with a third-party AI provider, whose consent is asked."""


@pytest.fixture(scope="module")
def _hosted_client(settings: Settings, database_url: str, clock: TestClock) -> Iterator[TestClient]:
    yield from hosted_app(settings, database_url, clock)


@pytest.fixture(autouse=True)
def _ai_apps(
    client: TestClient, container: Container, _hosted_client: TestClient
) -> Iterator[None]:
    _SUGGEST.append(lambda user: str(a_suggestion(client, container, user)["id"]))
    _HOSTED.append(_hosted_client)
    yield
    _SUGGEST.clear()
    _HOSTED.clear()


@scenario("POST", "/v1/insights/{insight_id}/dismiss")
def _a_suggestion_dismissed_at_once_is_dismissed_once(client: TestClient, user: ApiUser) -> None:
    url = f"/v1/insights/{_SUGGEST[0](user)}"

    answers = at_once([lambda: client.post(f"{url}/dismiss", headers=user.headers)] * N)

    assert statuses(answers) == [204] + [404] * (N - 1)
    assert client.get(url, headers=user.headers).status_code == 404
    changes = client.get("/v1/sync?include=insight", headers=user.headers).json()["changes"]
    assert [c["deleted"] for c in changes if c["type"] == "insight"] == [True]


@scenario("POST", "/v1/insights/{insight_id}/accept")
def _a_suggestion_accepted_at_once_makes_one_schedule(client: TestClient, user: ApiUser) -> None:
    url = f"/v1/insights/{_SUGGEST[0](user)}/accept"
    bodies = [{"blocklist_id": _blocklist(client, user), "name": f"S{i}"} for i in range(N)]

    answers = at_once([lambda b=b: client.post(url, headers=user.headers, json=b) for b in bodies])

    assert statuses(answers) == [200] * (N - 1) + [201]
    assert len({a.json()["id"] for a in answers}) == 1  # every device is told the same schedule
    listed = client.get("/v1/schedules", headers=user.headers).json()["items"]
    assert [s["id"] for s in listed] == [answers[0].json()["id"]]


@scenario("PUT", "/v1/ai/consents")
def _consents_answered_at_once_all_count(client: TestClient, user: ApiUser) -> None:
    hosted = _HOSTED[0]

    def answer(granted: bool) -> list[Any]:
        body = {"feature": "weekly_insight", "provider": "echo-hosted", "text_version": 2,
                "granted": granted}  # fmt: skip
        return at_once([lambda: hosted.put("/v1/ai/consents", headers=user.headers, json=body)] * N)

    def weekly() -> dict[str, Any]:
        items = hosted.get("/v1/ai/consents", headers=user.headers).json()["items"]
        (found,) = [i for i in items if i["feature"] == "weekly_insight"]
        return dict(found)

    granted = answer(True)
    assert statuses(granted) == [200] * N
    assert weekly()["granted"] is True
    withdrawn = answer(False)
    assert statuses(withdrawn) == [200] * N
    assert weekly()["granted"] is False


# -- the class, closed -------------------------------------------------------------------


def _write_routes(client: TestClient) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/v1/")
        for method in route.methods
        if method in {"POST", "PUT", "PATCH", "DELETE"}
    }


def test_every_write_route_has_a_concurrency_scenario(client: TestClient) -> None:
    assert _write_routes(client) == set(SCENARIOS)


@pytest.mark.parametrize("route", sorted(SCENARIOS), ids=" ".join)
def test_writes_at_the_same_instant(
    client: TestClient, make_user: Callable[[], ApiUser], route: tuple[str, str]
) -> None:
    SCENARIOS[route](client, make_user())
