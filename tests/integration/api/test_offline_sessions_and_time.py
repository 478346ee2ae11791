"""Sessions queued offline, and sessions that overlap: the local day and the focus time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.integration.api.focus_sessions_client import end, iso, start
from tests.support.clock import TestClock

# 16:00 UTC on 15 June: 01:00 on the 16th in Tokyo, 09:00 on the 15th in Los Angeles.
STARTED = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)


def _move_to(client: TestClient, user: ApiUser, timezone: str) -> None:
    response = client.patch("/v1/me", headers=user.headers, json={"timezone": timezone})
    assert response.status_code == 200, response.text


def test_a_start_queued_before_a_trip_counts_for_the_day_where_it_started(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    _move_to(client, alice, "Asia/Tokyo")
    clock.set(STARTED + timedelta(hours=20))  # landed in Los Angeles, back online
    _move_to(client, alice, "America/Los_Angeles")

    queued = start(client, alice, started_at=iso(STARTED), timezone="Asia/Tokyo")

    assert queued.status_code == 201, queued.text
    assert (queued.json()["timezone"], queued.json()["local_date"]) == ("Asia/Tokyo", "2026-06-16")


def test_a_start_that_names_no_zone_takes_the_profiles_when_it_arrives(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    _move_to(client, alice, "America/Los_Angeles")
    clock.set(STARTED + timedelta(hours=20))

    queued = start(client, alice, started_at=iso(STARTED))

    assert (queued.json()["timezone"], queued.json()["local_date"]) == (
        "America/Los_Angeles",
        "2026-06-15",
    )


def test_a_start_with_an_unknown_zone_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = start(client, alice, timezone="Mars/Olympus_Mons")

    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("timezone", "invalid_timezone")
    ]


def test_sessions_over_the_same_half_hour_count_it_once_and_lift_no_streak(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    client.patch("/v1/me", headers=alice.headers, json={"daily_goal_minutes": 60})
    clock.set(STARTED + timedelta(hours=2))
    for _ in range(3):  # the same half hour, sent from three devices
        started = start(client, alice, id=str(uuid.uuid4()), started_at=iso(STARTED))
        assert started.status_code == 201, started.text
        ended = end(
            client, alice, started.json()["id"], "completed", STARTED + timedelta(minutes=30)
        )
        assert ended.status_code == 200, ended.text

    stats = client.get(
        "/v1/stats", headers=alice.headers, params={"from": "2026-06-15", "to": "2026-06-15"}
    ).json()

    (day,) = stats["days"]
    assert (day["focus_minutes"], day["sessions_completed"], day["goal_met"]) == (30, 3, False)
    assert stats["current_streak_days"] == stats["longest_streak_days"] == 0
