"""Listing focus sessions: local-day filters and pages that hold while new sessions arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.integration.api.focus_sessions_client import end, iso, start
from tests.support.clock import TestClock

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def record(client: TestClient, user: ApiUser, started_at: datetime) -> str:
    """A session that started (offline) at `started_at` and was abandoned at once."""
    session = start(client, user, started_at=iso(started_at), planned_duration_minutes=1)
    assert session.status_code == 201, session.text
    ended = end(client, user, session.json()["id"], "abandoned", started_at)
    assert ended.status_code == 200, ended.text
    session_id: str = session.json()["id"]
    return session_id


def page(client: TestClient, user: ApiUser, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/focus-sessions", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_list_filters_on_the_local_days_sessions_count_for(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    client.patch("/v1/me", headers=alice.headers, json={"timezone": "Europe/Berlin"})
    clock.set(datetime(2026, 6, 17, 12, 0, tzinfo=UTC))
    # 23:30 on the 14th, 00:30 and 23:30 on the 15th, 00:30 on the 16th, Berlin time (UTC+2).
    late_14, early_15, late_15, early_16 = (
        record(client, alice, datetime(2026, 6, day, hour, 30, tzinfo=UTC))
        for day, hour in ((14, 21), (14, 22), (15, 21), (15, 22))
    )

    on_15th = page(client, alice, **{"from": "2026-06-15", "to": "2026-06-15"})
    from_15th = page(client, alice, **{"from": "2026-06-15"})
    to_15th = page(client, alice, to="2026-06-15")

    assert [s["id"] for s in on_15th["items"]] == [late_15, early_15]
    assert [s["local_date"] for s in on_15th["items"]] == ["2026-06-15", "2026-06-15"]
    assert [s["id"] for s in from_15th["items"]] == [early_16, late_15, early_15]
    assert [s["id"] for s in to_15th["items"]] == [late_15, early_15, late_14]


def test_paging_sees_every_session_once_while_new_ones_arrive(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    clock.set(NOON)
    instants = [NOON - timedelta(hours=h) for h in (1, 2, 3, 3, 3, 4, 5, 6)]  # ties on 3 h
    existing = [record(client, alice, at) for at in instants]
    existing[2:5] = sorted(existing[2:5], reverse=True)  # ties: the greater id first
    seen: list[str] = []

    first = page(client, alice, limit=3)
    seen += [s["id"] for s in first["items"]]
    cursor = first["next_cursor"]
    newer = record(client, alice, NOON - timedelta(minutes=30))
    between = record(client, alice, NOON - timedelta(hours=3, minutes=30))
    while cursor:
        next_page = page(client, alice, limit=3, cursor=cursor)
        seen += [s["id"] for s in next_page["items"]]
        cursor = next_page["next_cursor"]
        record(client, alice, NOON - timedelta(hours=2, minutes=30))  # among pages already read

    assert len(seen) == len(set(seen))
    assert [s for s in seen if s in existing] == existing
    assert newer not in seen
    assert between in seen


def test_a_cursor_the_api_did_not_issue_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = client.get("/v1/focus-sessions", headers=alice.headers, params={"cursor": "bm9wZQ"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_a_day_range_ending_before_it_starts_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = client.get(
        "/v1/focus-sessions",
        headers=alice.headers,
        params={"from": "2026-06-15", "to": "2026-06-14"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"
