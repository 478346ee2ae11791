"""/v1/schedules as the apps call it, on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.support.clock import TestClock

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _still(clock: TestClock) -> None:
    clock.set(NOW)


def blocklist(client: TestClient, user: ApiUser) -> str:
    body = {"name": "Social", "items": [{"kind": "category", "value": "social"}]}
    response = client.post("/v1/blocklists", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def nights(blocklist_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "School nights",
        "days": ["sun", "mon", "tue", "wed", "thu", "mon"],
        "start_local": "22:00",
        "end_local": "06:30",
        "timezone": "Europe/Berlin",
        "blocklist_id": blocklist_id,
    } | overrides


def create(client: TestClient, user: ApiUser, body: dict[str, Any]) -> Any:
    response = client.post("/v1/schedules", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def errors(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_a_created_schedule_is_read_back_from_its_location(
    client: TestClient, alice: ApiUser
) -> None:
    blocklist_id = blocklist(client, alice)

    response = client.post("/v1/schedules", headers=alice.headers, json=nights(blocklist_id))

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/schedules/{body['id']}"
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    assert body["days"] == ["mon", "tue", "wed", "thu", "sun"]
    assert (body["start_local"], body["end_local"]) == ("22:00", "06:30")
    assert (body["strictness"], body["enabled"], body["paused_until"]) == ("normal", True, None)
    assert body["blocklist_id"] == blocklist_id
    assert client.get(response.headers["Location"], headers=alice.headers).json() == body


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"end_local": "22:00"}, ("end_local", "empty_window")),
        ({"start_local": "7:00"}, ("start_local", "string_pattern_mismatch")),
        ({"days": []}, ("days", "too_short")),
        ({"days": ["mon", "someday"]}, ("days.1", "enum")),
        ({"timezone": "Mars/Olympus"}, ("timezone", "invalid_timezone")),
        ({"strictness": "brutal"}, ("strictness", "enum")),
        ({"paused_until": "2026-11-23T05:00:00Z"}, ("paused_until", "not_in_future")),
        ({"paused_until": "2026-12-24T06:00:00Z"}, ("paused_until", "too_far_ahead")),
        ({"paused_until": "2026-11-24T06:00:00"}, ("paused_until", "timezone_aware")),
    ],
)
def test_an_invalid_schedule_is_refused_naming_the_field(
    client: TestClient, alice: ApiUser, overrides: dict[str, Any], expected: tuple[str, str]
) -> None:
    response = client.post(
        "/v1/schedules", headers=alice.headers, json=nights(blocklist(client, alice), **overrides)
    )

    assert response.status_code == 422
    assert errors(response) == [expected]
    assert client.get("/v1/schedules", headers=alice.headers).json()["items"] == []


def test_a_pause_is_kept_as_a_utc_instant(client: TestClient, alice: ApiUser) -> None:
    body = nights(blocklist(client, alice), paused_until="2026-11-24T08:00:00+01:00")

    assert create(client, alice, body)["paused_until"] == "2026-11-24T07:00:00Z"


def test_a_schedule_cannot_use_another_users_or_a_deleted_blocklist(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    bobs = blocklist(client, bob)
    deleted = blocklist(client, alice)
    client.delete(f"/v1/blocklists/{deleted}", headers=alice.headers)

    for blocklist_id in (bobs, deleted):
        response = client.post("/v1/schedules", headers=alice.headers, json=nights(blocklist_id))
        assert response.status_code == 422
        assert errors(response) == [("blocklist_id", "unknown_blocklist")]


def test_a_blocklist_in_use_cannot_be_deleted_until_its_schedules_are(
    client: TestClient, alice: ApiUser
) -> None:
    blocklist_id = blocklist(client, alice)
    schedule = create(client, alice, nights(blocklist_id))

    refused = client.delete(f"/v1/blocklists/{blocklist_id}", headers=alice.headers)
    client.delete(f"/v1/schedules/{schedule['id']}", headers=alice.headers)
    allowed = client.delete(f"/v1/blocklists/{blocklist_id}", headers=alice.headers)

    assert refused.status_code == 409
    assert refused.json()["code"] == "blocklist_in_use"
    assert allowed.status_code == 204


def test_a_patch_merges_and_can_move_to_another_blocklist(
    client: TestClient, alice: ApiUser
) -> None:
    created = create(client, alice, nights(blocklist(client, alice)))
    other = blocklist(client, alice)
    url = f"/v1/schedules/{created['id']}"

    response = client.patch(
        url,
        headers=alice.with_headers(If_Match=f'"v{created["version"]}"'),
        json={"blocklist_id": other, "strictness": "hard", "paused_until": "2026-11-24T06:00:00Z"},
    )
    resumed = client.patch(url, headers=alice.headers, json={"paused_until": None})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["blocklist_id"], body["strictness"]) == (other, "hard")
    assert body["paused_until"] == "2026-11-24T06:00:00Z"
    assert (body["name"], body["days"]) == (created["name"], created["days"])
    assert resumed.json()["paused_until"] is None
    assert client.get(url, headers=alice.headers).json() == resumed.json()


def test_a_patch_cannot_null_a_required_field(client: TestClient, alice: ApiUser) -> None:
    created = create(client, alice, nights(blocklist(client, alice)))

    response = client.patch(
        f"/v1/schedules/{created['id']}", headers=alice.headers, json={"timezone": None}
    )

    assert response.status_code == 422
    assert errors(response) == [("timezone", "required")]


def test_stale_etags_give_412_and_current_ones_304(client: TestClient, alice: ApiUser) -> None:
    created = create(client, alice, nights(blocklist(client, alice)))
    url = f"/v1/schedules/{created['id']}"
    stale = f'"v{created["version"]}"'
    current = client.patch(url, headers=alice.headers, json={"enabled": False}).headers["ETag"]

    patched = client.patch(url, headers=alice.with_headers(If_Match=stale), json={"name": "x"})
    deleted = client.delete(url, headers=alice.with_headers(If_Match=stale))
    cached = client.get(url, headers=alice.with_headers(If_None_Match=current))

    assert (patched.status_code, deleted.status_code, cached.status_code) == (412, 412, 304)
    assert client.get(url, headers=alice.headers).json()["enabled"] is False


def test_the_51st_schedule_is_refused(client: TestClient, alice: ApiUser) -> None:
    body = nights(blocklist(client, alice))
    for _ in range(50):
        create(client, alice, body)

    response = client.post("/v1/schedules", headers=alice.headers, json=body)

    assert response.status_code == 422
    assert response.json()["code"] == "too_many_schedules"


def test_a_retried_post_with_the_same_key_creates_one_schedule(
    client: TestClient, alice: ApiUser
) -> None:
    body = nights(blocklist(client, alice))
    headers = alice.with_headers(Idempotency_Key="nights-1")

    first = client.post("/v1/schedules", headers=headers, json=body)
    retry = client.post("/v1/schedules", headers=headers, json=body)
    other = client.post("/v1/schedules", headers=headers, json=body | {"name": "Other"})

    assert first.status_code == retry.status_code == 201
    assert (retry.json(), retry.headers["Location"]) == (first.json(), first.headers["Location"])
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    listed = client.get("/v1/schedules", headers=alice.headers).json()["items"]
    assert [s["id"] for s in listed] == [first.json()["id"]]


def test_pages_cover_every_schedule_once_in_creation_order(
    client: TestClient, alice: ApiUser
) -> None:
    body = nights(blocklist(client, alice))
    made = [create(client, alice, body)["id"] for _ in range(5)]
    client.delete(f"/v1/schedules/{made.pop(2)}", headers=alice.headers)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/schedules", headers=alice.headers, params=params).json()
        seen += [s["id"] for s in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break

    assert seen == made


def test_another_users_schedule_is_not_found_and_stays_untouched(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    created = create(client, alice, nights(blocklist(client, alice)))
    url = f"/v1/schedules/{created['id']}"

    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.patch(url, headers=bob.headers, json={"enabled": False}).status_code == 404
    assert client.delete(url, headers=bob.headers).status_code == 404
    assert client.get("/v1/schedules", headers=bob.headers).json()["items"] == []
    assert client.get(url, headers=alice.headers).json() == created


def test_a_pause_ends_in_the_future_relative_to_the_servers_clock(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    created = create(client, alice, nights(blocklist(client, alice)))
    clock.advance(timedelta(days=2))

    response = client.patch(
        f"/v1/schedules/{created['id']}",
        headers=alice.headers,
        json={"paused_until": (NOW + timedelta(days=1)).isoformat()},
    )

    assert response.status_code == 422
    assert errors(response) == [("paused_until", "not_in_future")]
