from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.support.clock import TestClock


@pytest.fixture(autouse=True)
def _now(clock: TestClock) -> None:
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "example.com"}]}


def schedule_body(blocklist_id: str) -> dict[str, Any]:
    return {
        "name": "Evenings",
        "days": ["mon", "tue"],
        "start_local": "20:00",
        "end_local": "23:00",
        "timezone": "Europe/Berlin",
        "blocklist_id": blocklist_id,
    }


def register(client: TestClient, user: ApiUser, installation_id: str, app_version: str) -> None:
    body = {"platform": "android", "app_version": app_version}
    response = client.put(f"/v1/devices/{installation_id}", headers=user.headers, json=body)
    assert response.status_code in (200, 201), response.text


def report(client: TestClient, user: ApiUser, day: str, installation_id: str, total: int) -> None:
    body = {"installation_id": installation_id, "total_minutes": total, "pickups": 3}
    response = client.put(f"/v1/usage/{day}", headers=user.headers, json=body)
    assert response.status_code in (200, 201), response.text


def sync(client: TestClient, user: ApiUser, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/sync", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sync_all(client: TestClient, user: ApiUser, **params: Any) -> Iterator[dict[str, Any]]:
    """Every page, as a client catching up would ask for them."""
    while True:
        page = sync(client, user, **params)
        yield page
        if not page["has_more"]:
            return
        params["since"] = page["next_cursor"]


def keys(changes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["type"], c["id"]) for c in changes]


def create(client: TestClient, user: ApiUser, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    created: str = response.json()["id"]
    return created


def given_a_user_with_some_history(client: TestClient, user: ApiUser) -> dict[str, str]:
    """Something of every kind; returns the ids of the blocklist, schedule and session."""
    client.patch("/v1/me", headers=user.headers, json={"display_name": "Ada"})
    register(client, user, "phone-0001", "4.2.0")
    register(client, user, "tablet-0001", "4.2.0")
    blocklist = create(client, user, "/v1/blocklists", BLOCKLIST)
    schedule = create(client, user, "/v1/schedules", schedule_body(blocklist))
    session = create(client, user, "/v1/focus-sessions", {"planned_duration_minutes": 25})
    report(client, user, "2026-03-09", "phone-0001", 120)
    report(client, user, "2026-03-10", "phone-0001", 30)
    return {"blocklist": blocklist, "schedule": schedule, "focus_session": session}


def test_a_fresh_client_rebuilds_the_whole_state_as_each_get_returns_it(
    client: TestClient, alice: ApiUser
) -> None:
    ids = given_a_user_with_some_history(client, alice)

    page = sync(client, alice)

    assert page["has_more"] is False
    get = {
        ("profile", alice.uid): "/v1/me",
        ("device", "phone-0001"): "/v1/devices/phone-0001",
        ("device", "tablet-0001"): "/v1/devices/tablet-0001",
        ("blocklist", ids["blocklist"]): f"/v1/blocklists/{ids['blocklist']}",
        ("schedule", ids["schedule"]): f"/v1/schedules/{ids['schedule']}",
        ("focus_session", ids["focus_session"]): f"/v1/focus-sessions/{ids['focus_session']}",
        **{
            ("usage_report", f"{day}/phone-0001"): f"/v1/usage/{day}?installation_id=phone-0001"
            for day in ("2026-03-09", "2026-03-10")
        },
    }
    changes = {(c["type"], c["id"]): c for c in page["changes"]}
    assert len(page["changes"]) == len(changes) == len(get)
    versions = [c["version"] for c in page["changes"]]
    assert versions == sorted(versions)
    for key, path in get.items():
        resource = client.get(path, headers=alice.headers)
        assert changes[key]["deleted"] is False
        assert changes[key]["data"] == resource.json()
        assert resource.headers["ETag"] == f'"v{changes[key]["version"]}"'


def test_a_profile_never_edited_is_still_sent_to_a_fresh_client(
    client: TestClient, alice: ApiUser
) -> None:
    page = sync(client, alice)

    assert keys(page["changes"]) == [("profile", alice.uid)]
    assert page["changes"][0]["data"]["timezone"] == "UTC"


def test_after_changes_only_those_come_back_with_tombstones_for_deletes(
    client: TestClient, alice: ApiUser
) -> None:
    ids = given_a_user_with_some_history(client, alice)
    cursor = sync(client, alice)["next_cursor"]

    register(client, alice, "watch-0001", "1.0.0")  # created
    register(client, alice, "phone-0001", "4.3.0")  # updated
    client.delete("/v1/devices/tablet-0001", headers=alice.headers)  # deleted
    client.delete(f"/v1/schedules/{ids['schedule']}", headers=alice.headers)  # deleted
    client.patch(f"/v1/blocklists/{ids['blocklist']}", headers=alice.headers, json={"name": "Fun"})
    report(client, alice, "2026-03-10", "phone-0001", 45)  # replaced
    page = sync(client, alice, since=cursor)

    assert keys(page["changes"]) == [
        ("device", "watch-0001"),
        ("device", "phone-0001"),
        ("device", "tablet-0001"),
        ("schedule", ids["schedule"]),
        ("blocklist", ids["blocklist"]),
        ("usage_report", "2026-03-10/phone-0001"),
    ]
    watch, phone, tablet, schedule, blocklist, usage = page["changes"]
    assert watch["data"]["app_version"] == "1.0.0"
    assert phone["data"]["app_version"] == "4.3.0"
    assert (tablet["deleted"], tablet["data"]) == (True, None)
    assert (schedule["deleted"], schedule["data"]) == (True, None)
    assert blocklist["data"]["name"] == "Fun"
    assert usage["data"]["total_minutes"] == 45


def test_a_client_that_is_up_to_date_gets_nothing_and_keeps_its_cursor(
    client: TestClient, alice: ApiUser
) -> None:
    given_a_user_with_some_history(client, alice)
    cursor = sync(client, alice)["next_cursor"]
    report(client, alice, "2026-03-10", "phone-0001", 30)  # the same report again: no change

    page = sync(client, alice, since=cursor)

    assert page == {"changes": [], "next_cursor": cursor, "has_more": False}


def test_paging_with_a_small_limit_visits_every_change_exactly_once(
    client: TestClient, alice: ApiUser
) -> None:
    given_a_user_with_some_history(client, alice)
    everything = sync(client, alice)["changes"]

    pages = list(sync_all(client, alice, limit=3))

    assert [len(p["changes"]) for p in pages] == [3, 3, 2]
    assert [c for p in pages for c in p["changes"]] == everything
    assert pages[-1]["next_cursor"] == sync(client, alice)["next_cursor"]


def test_another_users_changes_never_appear(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    given_a_user_with_some_history(client, bob)
    alices_cursor = sync(client, alice)["next_cursor"]
    register(client, bob, "bobs-watch-1", "1.0.0")

    assert keys(sync(client, alice)["changes"]) == [("profile", alice.uid)]
    assert sync(client, alice, since=alices_cursor)["changes"] == []


@pytest.mark.parametrize("cursor", ["garbage!", "bm9wZQ", "WyJ4Il0", "WzEyXQ", "WyIxIiwiMiJd"])
def test_a_cursor_the_api_did_not_issue_is_refused(
    client: TestClient, alice: ApiUser, cursor: str
) -> None:
    response = client.get("/v1/sync", headers=alice.headers, params={"since": cursor})

    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("since", "invalid_cursor")


def test_a_device_deleted_then_registered_again_comes_once_in_its_newest_state(
    client: TestClient, alice: ApiUser
) -> None:
    register(client, alice, "phone-0001", "4.2.0")
    cursor = sync(client, alice)["next_cursor"]
    client.delete("/v1/devices/phone-0001", headers=alice.headers)
    register(client, alice, "phone-0001", "5.0.0")

    for since in (None, cursor):
        page = sync(client, alice, **({"since": since} if since else {}))
        devices = [c for c in page["changes"] if c["type"] == "device"]
        assert len(devices) == 1
        assert devices[0]["deleted"] is False
        assert devices[0]["data"]["app_version"] == "5.0.0"


def test_a_write_that_touched_several_records_is_never_split_across_pages(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    register(client, alice, "phone-0001", "4.2.0")
    register(client, alice, "tablet-0001", "4.2.0")
    register(client, alice, "watch-0001", "4.2.0")
    # One write giving two records the same version, as a cascading delete might.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE devices SET version = (SELECT max(version) FROM devices WHERE user_id = %s)"
            " WHERE user_id = %s AND installation_id = 'tablet-0001'",
            (alice.uid, alice.uid),
        )

    pages = list(sync_all(client, alice, limit=1))

    seen = [c for p in pages for c in p["changes"]]
    assert sorted(keys(seen)) == [
        ("device", "phone-0001"),
        ("device", "tablet-0001"),
        ("device", "watch-0001"),
        ("profile", alice.uid),
    ]
    assert len(seen) == 4
