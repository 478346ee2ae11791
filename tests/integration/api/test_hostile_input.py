"""Hostile input gets a 4xx problem+json naming the field, never a 500 and never acceptance.

One test per class of input: control characters in text, the ends of the calendar, numbers
beyond their column, non-ASCII digits, text where an integer belongs, and huge error lists.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from identity.dev_issuer import AUDIENCE, load_or_create_secret
from tests.conftest import ApiUser

Call = Callable[[TestClient, ApiUser], httpx.Response]


def cursor(*position: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


def refused(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    """The answer a client gets for a bad request: 4xx problem+json, the field named."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem


def register(client: TestClient, user: ApiUser, installation_id: str = "phone-0001") -> None:
    response = client.put(
        f"/v1/devices/{installation_id}",
        headers=user.headers,
        json={"platform": "ios", "app_version": "4.2.0"},
    )
    assert response.status_code in (200, 201), response.text


def create_blocklist(client: TestClient, user: ApiUser) -> str:
    response = client.post("/v1/blocklists", headers=user.headers, json={"name": "Social"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def schedule_body(blocklist_id: str, **overrides: object) -> dict[str, object]:
    return {
        "name": "Nights",
        "days": ["mon"],
        "start_local": "22:00",
        "end_local": "06:00",
        "timezone": "Europe/Berlin",
        "blocklist_id": blocklist_id,
        **overrides,
    }


def start_session(client: TestClient, user: ApiUser) -> str:
    body = {"planned_duration_minutes": 25}
    response = client.post("/v1/focus-sessions", headers=user.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def usage_body(**overrides: object) -> dict[str, object]:
    return {"installation_id": "phone-0001", "total_minutes": 10, "pickups": 1, **overrides}


# ---- NUL and other control characters in text ----

NUL_IN_TEXT: dict[str, tuple[Call, str | None]] = {
    "blocklist name": (
        lambda c, u: c.post("/v1/blocklists", headers=u.headers, json={"name": "So\x00cial"}),
        "name",
    ),
    "blocklist name in a patch": (
        lambda c, u: c.patch(
            f"/v1/blocklists/{create_blocklist(c, u)}",
            headers=u.headers,
            json={"name": "a\x00"},
        ),
        "name",
    ),
    "schedule name": (
        lambda c, u: c.post(
            "/v1/schedules",
            headers=u.headers,
            json=schedule_body(create_blocklist(c, u), name="Nig\x00hts"),
        ),
        "name",
    ),
    "profile display name": (
        lambda c, u: c.patch("/v1/me", headers=u.headers, json={"display_name": "Al\x00ice"}),
        "display_name",
    ),
    "app version": (
        lambda c, u: c.put(
            "/v1/devices/phone-0001",
            headers=u.headers,
            json={"platform": "ios", "app_version": "4.2\x00"},
        ),
        "app_version",
    ),
    "os version": (
        lambda c, u: c.put(
            "/v1/devices/phone-0001",
            headers=u.headers,
            json={"platform": "ios", "app_version": "4.2.0", "os_version": "18\x00"},
        ),
        "os_version",
    ),
    "usage app token": (
        lambda c, u: (
            register(c, u),
            c.put(
                "/v1/usage/2026-01-01",
                headers=u.headers,
                json=usage_body(top_apps=[{"token": "com.x\x00", "minutes": 1}]),
            ),
        )[1],
        "top_apps.0.token",
    ),
    "device id in the path": (
        lambda c, u: c.get("/v1/devices/phone-0001%00", headers=u.headers),
        "installation_id",
    ),
    "device id in the usage query": (
        lambda c, u: c.get(
            "/v1/usage/2026-01-01",
            headers=u.headers,
            params={"installation_id": "phone-0001\x00"},
        ),
        "installation_id",
    ),
    "usage cursor": (
        lambda c, u: c.get(
            "/v1/usage",
            headers=u.headers,
            params={
                "from": "2026-01-01",
                "to": "2026-01-02",
                "cursor": cursor("2026-01-01", "phone\x000001"),
            },
        ),
        "cursor",
    ),
    "lone surrogate in a name": (
        lambda c, u: c.post(
            "/v1/blocklists",
            headers={**u.headers, "Content-Type": "application/json"},
            content=b'{"name": "x\\ud800y"}',
        ),
        "name",
    ),
}


@pytest.mark.parametrize("case", sorted(NUL_IN_TEXT))
def test_control_characters_in_text_are_refused_naming_the_field(
    client: TestClient, alice: ApiUser, case: str
) -> None:
    call, field = NUL_IN_TEXT[case]

    refused(call(client, alice), field)


def test_a_dev_token_whose_subject_holds_a_nul_is_refused(
    client: TestClient, settings: Settings
) -> None:
    now = datetime.now(UTC)
    claims = {"iss": "focus-dev", "sub": "u-evil\x00", "aud": AUDIENCE, "iat": now}
    secret = load_or_create_secret(settings.dev_secret_path)
    token = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, secret, algorithm="HS256")

    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_device_id_with_a_trailing_newline_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = client.put(
        "/v1/devices/abcdefgh%0A",
        headers=alice.headers,
        json={"platform": "ios", "app_version": "4.2.0"},
    )

    refused(response, "installation_id")
    assert client.get("/v1/devices", headers=alice.headers).json()["items"] == []


# ---- the ends of the calendar ----

CALENDAR_EDGES: dict[str, tuple[Call, str | None]] = {
    "stats ending on the last day": (
        lambda c, u: c.get(
            "/v1/stats", headers=u.headers, params={"from": "9999-12-31", "to": "9999-12-31"}
        ),
        None,
    ),
    "stats starting on the first day": (
        lambda c, u: c.get(
            "/v1/stats", headers=u.headers, params={"from": "0001-01-01", "to": "0001-01-01"}
        ),
        None,
    ),
    "focus sessions from the first day": (
        lambda c, u: c.get("/v1/focus-sessions", headers=u.headers, params={"from": "0001-01-01"}),
        None,
    ),
    "focus sessions to the last day": (
        lambda c, u: c.get("/v1/focus-sessions", headers=u.headers, params={"to": "9999-12-31"}),
        None,
    ),
    "usage list at the last day": (
        lambda c, u: c.get(
            "/v1/usage", headers=u.headers, params={"from": "9999-12-31", "to": "9999-12-31"}
        ),
        None,
    ),
    "a pause before the first instant in UTC": (
        lambda c, u: c.post(
            "/v1/schedules",
            headers=u.headers,
            json=schedule_body(create_blocklist(c, u), paused_until="0001-01-01T00:00:00+14:00"),
        ),
        "paused_until",
    ),
    "a pause after the last instant in UTC": (
        lambda c, u: c.post(
            "/v1/schedules",
            headers=u.headers,
            json=schedule_body(create_blocklist(c, u), paused_until="9999-12-31T23:59:59-14:00"),
        ),
        "paused_until",
    ),
    "a session started before the first instant in UTC": (
        lambda c, u: c.post(
            "/v1/focus-sessions",
            headers=u.headers,
            json={"planned_duration_minutes": 25, "started_at": "0001-01-01T00:00:00+14:00"},
        ),
        "started_at",
    ),
    "a session ended after the last instant in UTC": (
        lambda c, u: c.post(
            f"/v1/focus-sessions/{start_session(c, u)}/end",
            headers=u.headers,
            json={"outcome": "abandoned", "ended_at": "9999-12-31T23:59:59-14:00"},
        ),
        "ended_at",
    ),
}


@pytest.mark.parametrize("case", CALENDAR_EDGES)
def test_the_ends_of_the_calendar_are_answered_without_a_server_error(
    client: TestClient, alice: ApiUser, case: str
) -> None:
    call, field = CALENDAR_EDGES[case]

    response = call(client, alice)

    if field is None:
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            refused(response)
    else:
        refused(response, field)


# ---- numbers: beyond their column, non-ASCII digits, text and booleans for integers ----

BAD_NUMBERS: dict[str, tuple[Call, str]] = {
    "a sync cursor beyond bigint": (
        lambda c, u: c.get("/v1/sync", headers=u.headers, params={"since": cursor("9" * 19)}),
        "since",
    ),
    "a sync cursor of superscript digits": (
        lambda c, u: c.get("/v1/sync", headers=u.headers, params={"since": cursor("²")}),
        "since",
    ),
    "a sync cursor of Arabic-Indic digits": (
        lambda c, u: c.get("/v1/sync", headers=u.headers, params={"since": cursor("١٢")}),
        "since",
    ),
    "a non-ASCII cursor": (
        lambda c, u: c.get("/v1/blocklists", headers=u.headers, params={"cursor": "W²"}),
        "cursor",
    ),
    "true for an integer": (
        lambda c, u: c.post(
            "/v1/focus-sessions", headers=u.headers, json={"planned_duration_minutes": True}
        ),
        "planned_duration_minutes",
    ),
    "a string of digits for an integer": (
        lambda c, u: c.post(
            "/v1/focus-sessions", headers=u.headers, json={"planned_duration_minutes": "25"}
        ),
        "planned_duration_minutes",
    ),
    "a string of digits for a goal": (
        lambda c, u: c.patch("/v1/me", headers=u.headers, json={"daily_goal_minutes": "30"}),
        "daily_goal_minutes",
    ),
    "a number for a boolean": (
        lambda c, u: c.patch("/v1/me", headers=u.headers, json={"notifications": {"enabled": 0}}),
        "notifications.enabled",
    ),
}


@pytest.mark.parametrize("case", BAD_NUMBERS)
def test_numbers_that_are_not_what_the_spec_says_are_refused(
    client: TestClient, alice: ApiUser, case: str
) -> None:
    call, field = BAD_NUMBERS[case]

    refused(call(client, alice), field)


def test_a_body_with_thousands_of_wrong_items_gets_a_short_answer(
    client: TestClient, alice: ApiUser
) -> None:
    items = [{"kind": "x", "value": "x"}] * 10_000  # 250 kB: under the body cap
    body = json.dumps({"name": "Many", "items": items}, separators=(",", ":")).encode()

    response = client.post(
        "/v1/blocklists",
        headers={**alice.headers, "Content-Type": "application/json"},
        content=body,
    )

    problem = refused(response)
    assert len(response.content) < 20_000, response.status_code
    assert problem.get("errors"), problem
    assert problem["errors"][0]["field"] == "items.0.kind"
    assert "10000" in problem["detail"]


def test_thousands_of_invalid_item_values_get_a_short_answer(
    client: TestClient, alice: ApiUser
) -> None:
    items = [{"kind": "web_domain", "value": f"not a domain {i}"} for i in range(5_000)]

    response = client.post(
        "/v1/blocklists", headers=alice.headers, json={"name": "Many", "items": items}
    )

    refused(response, "items.0.value")
    assert len(response.content) < 20_000
