"""A phone's day, over HTTP, as the Android app calls the server (Firebase emulator tokens)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx2

from tests.e2e.conftest import bearer
from tests.support.firebase_emulator import AuthEmulator

FCM_TOKEN = "fcm-token:" + "A1b2_C3d4-" * 15


def test_an_offline_first_phone_builds_and_syncs_its_state(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    _, token = auth_emulator.sign_up_anonymous()
    me = bearer(token)
    http.patch("/v1/me", headers=me, json={"timezone": "Europe/Berlin", "daily_goal_minutes": 1})
    device = {"platform": "android", "app_version": "4.2.0", "push_token": FCM_TOKEN}
    assert http.put("/v1/devices/pixel-000001", headers=me, json=device).status_code == 201
    social = {
        "name": "Social",
        "items": [{"kind": "android_package", "value": "com.instagram.android"}],
    }
    blocklist = http.post("/v1/blocklists", headers={**me, "Idempotency-Key": "bl-1"}, json=social)
    assert blocklist.status_code == 201
    schedule = {
        "name": "Evenings",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start_local": "20:00",
        "end_local": "23:00",
        "timezone": "Europe/Berlin",
        "blocklist_id": blocklist.json()["id"],
    }
    assert http.post("/v1/schedules", headers=me, json=schedule).status_code == 201

    # A session started offline a few minutes ago, synced with the id the app chose.
    session_id = str(uuid.uuid4())
    started = datetime.now(UTC) - timedelta(minutes=3)
    start = {"id": session_id, "planned_duration_minutes": 1, "started_at": started.isoformat()}
    assert http.post("/v1/focus-sessions", headers=me, json=start).status_code == 201
    end = {"outcome": "completed", "ended_at": (started + timedelta(minutes=2)).isoformat()}
    ended = http.post(f"/v1/focus-sessions/{session_id}/end", headers=me, json=end)
    assert ended.status_code == 200, ended.text
    today = started.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()

    stats = http.get("/v1/stats", headers=me, params={"from": today, "to": today})
    full = http.get("/v1/sync", headers=me).json()

    assert stats.status_code == 200, stats.text
    assert stats.json()["current_streak_days"] >= 1
    kinds = sorted({change["type"] for change in full["changes"]})
    assert kinds == ["blocklist", "device", "focus_session", "profile", "schedule"]
    assert http.delete("/v1/devices/pixel-000001", headers=me).status_code == 204
    delta = http.get("/v1/sync", headers=me, params={"since": full["next_cursor"]}).json()
    assert [(c["type"], c["deleted"]) for c in delta["changes"]] == [("device", True)]


def test_a_retried_post_over_a_flaky_network_creates_one_blocklist(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    _, token = auth_emulator.sign_up_anonymous()
    headers = {**bearer(token), "Idempotency-Key": "flaky-1"}
    body = {"name": "News", "items": [{"kind": "web_domain", "value": "news.example.com"}]}

    first = http.post("/v1/blocklists", headers=headers, json=body)
    retried = http.post("/v1/blocklists", headers=headers, json=body)

    assert first.status_code == retried.status_code == 201
    assert retried.json()["id"] == first.json()["id"]
    assert len(http.get("/v1/blocklists", headers=bearer(token)).json()["items"]) == 1
