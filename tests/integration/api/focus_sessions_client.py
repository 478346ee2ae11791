"""Calls of the focus-session API that several test modules make."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx2
from starlette.testclient import TestClient

from tests.conftest import ApiUser


def iso(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def start(client: TestClient, user: ApiUser, **body: Any) -> httpx2.Response:
    return client.post(
        "/v1/focus-sessions", headers=user.headers, json={"planned_duration_minutes": 25, **body}
    )


def end(
    client: TestClient,
    user: ApiUser,
    session_id: str,
    outcome: str,
    ended_at: datetime,
    **headers: str,
) -> httpx2.Response:
    return client.post(
        f"/v1/focus-sessions/{session_id}/end",
        headers=user.with_headers(**headers),
        json={"outcome": outcome, "ended_at": iso(ended_at)},
    )


def get(client: TestClient, user: ApiUser, session_id: str) -> httpx2.Response:
    return client.get(f"/v1/focus-sessions/{session_id}", headers=user.headers)


def all_sessions(client: TestClient, user: ApiUser) -> list[dict[str, Any]]:
    response = client.get("/v1/focus-sessions", headers=user.headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
