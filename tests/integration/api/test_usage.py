from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.support.clock import TestClock

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PHONE = "phone-0001"
TABLET = "tablet-0001"


@pytest.fixture(autouse=True)
def _now(clock: TestClock) -> None:
    clock.set(NOW)


def register(client: TestClient, user: ApiUser, installation_id: str = PHONE) -> None:
    response = client.put(
        f"/v1/devices/{installation_id}",
        headers=user.headers,
        json={"platform": "ios", "app_version": "4.2.0"},
    )
    assert response.status_code in (200, 201), response.text


def report(installation_id: str = PHONE, **changes: Any) -> dict[str, Any]:
    return {
        "installation_id": installation_id,
        "total_minutes": 200,
        "pickups": 57,
        "minutes_per_category": {"social": 90, "games": 30},
        "top_apps": [
            {"token": "com.example.chat", "minutes": 40},
            {"token": "com.example.social", "minutes": 80},
        ],
    } | changes


def put(client: TestClient, user: ApiUser, day: str, body: dict[str, Any], **headers: str) -> Any:
    return client.put(f"/v1/usage/{day}", headers=user.with_headers(**headers), json=body)


def problem_of(response: Any) -> tuple[str, str]:
    error = response.json()["errors"][0]
    return error["field"], error["code"]


def test_the_first_report_of_a_day_is_created_and_reads_back(
    client: TestClient, alice: ApiUser
) -> None:
    register(client, alice)

    created = put(client, alice, "2026-03-10", report())

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["date"] == "2026-03-10"
    assert body["installation_id"] == PHONE
    assert body["minutes_per_category"] == {"social": 90, "games": 30}
    assert [a["token"] for a in body["top_apps"]] == ["com.example.social", "com.example.chat"]
    assert created.headers["ETag"] == f'"v{body["version"]}"'
    read = client.get(f"/v1/usage/2026-03-10?installation_id={PHONE}", headers=alice.headers)
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["ETag"] == created.headers["ETag"]


def test_sending_the_same_report_again_changes_nothing(client: TestClient, alice: ApiUser) -> None:
    register(client, alice)
    first = put(client, alice, "2026-03-10", report())
    apps_reordered = report(top_apps=list(reversed(report()["top_apps"])))

    again = put(client, alice, "2026-03-10", apps_reordered)

    assert again.status_code == 200
    assert again.json() == first.json()


def test_a_new_report_of_the_day_replaces_the_previous_one(
    client: TestClient, alice: ApiUser
) -> None:
    register(client, alice)
    first = put(client, alice, "2026-03-10", report()).json()

    second = put(client, alice, "2026-03-10", report(total_minutes=260, top_apps=[]))

    assert second.status_code == 200
    body = second.json()
    assert (body["total_minutes"], body["top_apps"]) == (260, [])
    assert body["version"] > first["version"]
    assert body["created_at"] == first["created_at"]


def test_each_device_keeps_its_own_report_of_the_day(client: TestClient, alice: ApiUser) -> None:
    register(client, alice, PHONE)
    register(client, alice, TABLET)

    put(client, alice, "2026-03-10", report(PHONE, total_minutes=200))
    put(client, alice, "2026-03-10", report(TABLET, total_minutes=150))

    for installation_id, total in ((PHONE, 200), (TABLET, 150)):
        read = client.get(
            f"/v1/usage/2026-03-10?installation_id={installation_id}", headers=alice.headers
        )
        assert read.json()["total_minutes"] == total


def test_a_report_must_come_from_one_of_the_users_live_devices(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    register(client, bob, "bobs-phone-01")
    register(client, alice, "old-phone-01")
    client.delete("/v1/devices/old-phone-01", headers=alice.headers)

    for installation_id in ("never-registered", "bobs-phone-01", "old-phone-01"):
        response = put(client, alice, "2026-03-10", report(installation_id))

        assert response.status_code == 422
        assert problem_of(response) == ("installation_id", "unknown_device")


def test_a_day_that_has_not_begun_where_the_user_lives_is_refused(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    # 12:00 UTC on the 10th is already 01:00 on the 11th in Auckland.
    client.patch("/v1/me", headers=alice.headers, json={"timezone": "Pacific/Auckland"})
    register(client, alice)
    register(client, bob)

    assert put(client, alice, "2026-03-11", report()).status_code == 201
    refused = put(client, bob, "2026-03-11", report())
    assert refused.status_code == 422
    assert problem_of(refused) == ("date", "date_in_future")
    assert put(client, alice, "2026-03-12", report()).status_code == 422


def test_a_report_older_than_400_days_is_refused(client: TestClient, alice: ApiUser) -> None:
    register(client, alice)

    assert put(client, alice, "2025-02-03", report()).status_code == 201  # 400 days ago
    refused = put(client, alice, "2025-02-02", report())

    assert refused.status_code == 422
    assert problem_of(refused) == ("date", "date_too_old")


def test_a_stale_if_match_is_refused_and_a_current_one_accepted(
    client: TestClient, alice: ApiUser
) -> None:
    register(client, alice)
    etag = put(client, alice, "2026-03-10", report()).headers["ETag"]
    put(client, alice, "2026-03-10", report(pickups=60))

    stale = put(client, alice, "2026-03-10", report(pickups=99), If_Match=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"

    current = client.get(f"/v1/usage/2026-03-10?installation_id={PHONE}", headers=alice.headers)
    fresh = put(client, alice, "2026-03-10", report(pickups=99), If_Match=current.headers["ETag"])
    assert fresh.status_code == 200
    assert fresh.json()["pickups"] == 99


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"total_minutes": 1441}, "total_minutes", "less_than_equal"),
        ({"minutes_per_category": {"doomscrolling": 5}}, "minutes_per_category", None),
        ({"minutes_per_category": {"social": 150, "games": 60}}, "minutes_per_category", None),
        ({"top_apps": [{"token": "a.b", "minutes": 1}] * 2}, "top_apps", "duplicate_app"),
        ({"top_apps": [{"token": f"a.b{i}", "minutes": 1} for i in range(51)]}, "top_apps", None),
    ],
)
def test_impossible_figures_are_refused_and_name_the_field(
    client: TestClient, alice: ApiUser, changes: dict[str, Any], field: str, code: str | None
) -> None:
    register(client, alice)

    response = put(client, alice, "2026-03-10", report(**changes))

    assert response.status_code == 422
    refused_field, refused_code = problem_of(response)
    assert refused_field.startswith(field)
    assert code is None or refused_code == code


def test_categories_may_exceed_the_total_by_rounding_only(
    client: TestClient, alice: ApiUser
) -> None:
    register(client, alice)
    rounded_up = {"social": 101, "games": 101}  # 200.6 minutes in all, each part rounded up

    response = put(client, alice, "2026-03-10", report(minutes_per_category=rounded_up))

    assert response.status_code == 201, response.text


def test_a_date_that_is_not_a_calendar_day_is_refused(client: TestClient, alice: ApiUser) -> None:
    register(client, alice)

    for day in ("1773144000", "2026-02-30", "10-03-2026"):
        assert put(client, alice, day, report()).status_code == 422


def test_the_list_pages_through_the_range_by_date_then_device(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    register(client, alice, PHONE)
    register(client, alice, TABLET)
    register(client, bob, PHONE)
    for day in ("2026-03-07", "2026-03-08", "2026-03-09"):
        put(client, alice, day, report(TABLET))
        put(client, alice, day, report(PHONE))
        put(client, bob, day, report(PHONE))
    put(client, alice, "2026-03-06", report(PHONE))

    seen: list[tuple[str, str]] = []
    params: dict[str, Any] = {"from": "2026-03-07", "to": "2026-03-10", "limit": 4}
    while True:
        page = client.get("/v1/usage", headers=alice.headers, params=params).json()
        seen += [(r["date"], r["installation_id"]) for r in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == [
        (d, i) for d in ("2026-03-07", "2026-03-08", "2026-03-09") for i in (PHONE, TABLET)
    ]


def test_a_range_longer_than_a_year_or_backwards_is_refused(
    client: TestClient, alice: ApiUser
) -> None:
    too_long = client.get("/v1/usage?from=2025-03-09&to=2026-03-10", headers=alice.headers)
    backwards = client.get("/v1/usage?from=2026-03-10&to=2026-03-09", headers=alice.headers)
    garbage = client.get(
        "/v1/usage?from=2026-03-01&to=2026-03-09&cursor=bm9wZQ", headers=alice.headers
    )

    assert problem_of(too_long) == ("to", "range_too_long")
    assert problem_of(backwards) == ("from", "invalid_range")
    assert problem_of(garbage) == ("cursor", "invalid_cursor")


def test_another_users_report_looks_missing(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    register(client, bob)
    put(client, bob, "2026-03-10", report())

    response = client.get(f"/v1/usage/2026-03-10?installation_id={PHONE}", headers=alice.headers)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_if_none_match_with_the_current_etag_gives_304(client: TestClient, alice: ApiUser) -> None:
    register(client, alice)
    etag = put(client, alice, "2026-03-10", report()).headers["ETag"]

    response = client.get(
        f"/v1/usage/2026-03-10?installation_id={PHONE}",
        headers=alice.with_headers(If_None_Match=etag),
    )

    assert response.status_code == 304
