from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.support.clock import TestClock


def wall(timezone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(timezone))


def profile(client: TestClient, user: ApiUser, **changes: Any) -> None:
    response = client.patch("/v1/me", headers=user.headers, json=changes)
    assert response.status_code == 200, response.text


def focus(
    client: TestClient,
    user: ApiUser,
    clock: TestClock,
    began: datetime,
    minutes: int,
    outcome: str = "completed",
) -> None:
    """A session run live: started at `began`, ended `minutes` later."""
    clock.set(began)
    started = client.post(
        "/v1/focus-sessions", headers=user.headers, json={"planned_duration_minutes": minutes}
    )
    assert started.status_code == 201, started.text
    ended_at = began + timedelta(minutes=minutes)
    clock.set(ended_at)
    ended = client.post(
        f"/v1/focus-sessions/{started.json()['id']}/end",
        headers=user.headers,
        json={"outcome": outcome, "ended_at": ended_at.isoformat()},
    )
    assert ended.status_code == 200, ended.text


def stats(
    client: TestClient, user: ApiUser, clock: TestClock, now: datetime, first: date, last: date
) -> dict[str, Any]:
    clock.set(now)
    response = client.get(
        "/v1/stats", headers=user.headers, params={"from": str(first), "to": str(last)}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_stats_show_completed_focus_per_local_day_and_the_streaks(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    ny = "America/New_York"
    profile(client, alice, timezone=ny, daily_goal_minutes=30)
    # New York falls back on 1 November 2026: that day has 25 hours.
    for day in (date(2026, 10, 30), date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)):
        focus(client, alice, clock, wall(ny, day, 23, 15), 30)
    focus(client, alice, clock, wall(ny, date(2026, 10, 27), 9), 45)
    focus(client, alice, clock, wall(ny, date(2026, 10, 28), 9), 60, outcome="abandoned")
    focus(client, alice, clock, wall(ny, date(2026, 11, 3), 8), 20)

    body = stats(
        client, alice, clock, wall(ny, date(2026, 11, 3), 9), date(2026, 10, 27), date(2026, 11, 3)
    )

    assert body["from"] == "2026-10-27"
    assert (body["today"], body["timezone"], body["daily_goal_minutes"]) == ("2026-11-03", ny, 30)
    assert [(d["date"][5:], d["focus_minutes"], d["sessions_completed"]) for d in body["days"]] == [
        ("10-27", 45, 1),
        ("10-28", 0, 0),
        ("10-29", 0, 0),
        ("10-30", 30, 1),
        ("10-31", 30, 1),
        ("11-01", 30, 1),
        ("11-02", 30, 1),
        ("11-03", 20, 1),
    ]
    assert [d["goal_met"] for d in body["days"]] == [
        True,
        False,
        False,
        True,
        True,
        True,
        True,
        False,
    ]
    # Today is not met yet, so the run up to yesterday is still current.
    assert (body["current_streak_days"], body["longest_streak_days"]) == (4, 4)


def test_a_streak_is_over_once_a_whole_day_is_missed(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    berlin = "Europe/Berlin"
    profile(client, alice, timezone=berlin, daily_goal_minutes=25)
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)):  # across spring forward
        focus(client, alice, clock, wall(berlin, day, 0, 10), 25)

    on_31st = stats(
        client,
        alice,
        clock,
        wall(berlin, date(2026, 3, 31), 23),
        date(2026, 3, 28),
        date(2026, 3, 31),
    )
    on_1st = stats(
        client,
        alice,
        clock,
        wall(berlin, date(2026, 4, 1), 0, 5),
        date(2026, 3, 28),
        date(2026, 4, 1),
    )

    assert (on_31st["current_streak_days"], on_31st["longest_streak_days"]) == (3, 3)
    assert (on_1st["current_streak_days"], on_1st["longest_streak_days"]) == (0, 3)


def test_days_recorded_before_a_move_keep_their_dates(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    tokyo, la = "Asia/Tokyo", "America/Los_Angeles"
    profile(client, alice, timezone=tokyo, daily_goal_minutes=60)
    for day in (date(2026, 7, 1), date(2026, 7, 2)):
        focus(client, alice, clock, wall(tokyo, day, 9), 60)
    clock.set(wall(tokyo, date(2026, 7, 2), 12))  # 1 July, 20:00 in Los Angeles
    profile(client, alice, timezone=la)

    body = stats(
        client, alice, clock, wall(la, date(2026, 7, 1), 20), date(2026, 7, 1), date(2026, 7, 2)
    )

    assert body["today"] == "2026-07-01"
    assert [(d["date"], d["goal_met"]) for d in body["days"]] == [
        ("2026-07-01", True),
        ("2026-07-02", True),
    ]
    assert body["current_streak_days"] == 2


def test_only_the_users_own_sessions_count(
    client: TestClient, alice: ApiUser, bob: ApiUser, clock: TestClock
) -> None:
    focus(client, bob, clock, datetime(2026, 8, 3, 9, tzinfo=UTC), 90)

    body = stats(
        client,
        alice,
        clock,
        datetime(2026, 8, 3, 12, tzinfo=UTC),
        date(2026, 8, 3),
        date(2026, 8, 3),
    )

    assert body["days"] == [
        {"date": "2026-08-03", "focus_minutes": 0, "sessions_completed": 0, "goal_met": False}
    ]
    assert (body["current_streak_days"], body["longest_streak_days"]) == (0, 0)


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to", "before_from"),
        ({"from": "2025-05-01", "to": "2026-05-02"}, "to", "range_too_long"),
        # Refused by the schema; fields are named as the domain names them.
        ({"from": "2026-05-01", "to": "2026-02-30"}, "to", "date_from_datetime_parsing"),
        ({"to": "2026-05-01"}, "from", "missing"),
    ],
)
def test_a_range_the_api_cannot_answer_is_refused(
    client: TestClient, alice: ApiUser, params: dict[str, str], field: str, code: str
) -> None:
    response = client.get("/v1/stats", headers=alice.headers, params=params)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
