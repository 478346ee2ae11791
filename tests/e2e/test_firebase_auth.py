"""Signed-in app users, with tokens the Firebase Auth emulator issues."""

from __future__ import annotations

import secrets
import time

import httpx2

from tests.e2e.conftest import bearer
from tests.support.firebase_emulator import AuthEmulator


def test_an_anonymous_firebase_user_gets_a_profile(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    uid, token = auth_emulator.sign_up_anonymous()

    response = http.get("/v1/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["uid"] == uid


def test_a_token_of_another_firebase_project_is_refused(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    token = auth_emulator.id_token_for_project("demo-someone-else")

    response = http.get("/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"
    assert "demo-focus" not in response.text


def test_an_expired_token_is_refused(http: httpx2.Client, auth_emulator: AuthEmulator) -> None:
    uid, _ = auth_emulator.sign_up_anonymous()
    now = int(time.time())
    token = auth_emulator.forge_token(
        {"sub": uid, "user_id": uid, "iat": now - 7200, "exp": now - 3600}
    )

    response = http.get("/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_a_token_issued_in_the_future_is_refused(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    uid, _ = auth_emulator.sign_up_anonymous()
    now = int(time.time())
    token = auth_emulator.forge_token(
        {"sub": uid, "user_id": uid, "iat": now + 3600, "exp": now + 7200}
    )

    response = http.get("/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_revoked_token_is_refused_on_sensitive_routes(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    email = f"{secrets.token_hex(6)}@example.com"
    uid = auth_emulator.create_user(email, "correct horse battery")
    token = auth_emulator.sign_in(email, "correct horse battery")
    assert http.get("/v1/me", headers=bearer(token)).status_code == 200

    auth_emulator.revoke_tokens(uid)
    response = http.patch("/v1/me", headers=bearer(token), json={"display_name": "Mallory"})

    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    fresh = auth_emulator.sign_in(email, "correct horse battery")
    assert http.get("/v1/me", headers=bearer(fresh)).json()["display_name"] is None


def test_a_disabled_user_cannot_register_a_push_target(
    http: httpx2.Client, auth_emulator: AuthEmulator
) -> None:
    uid, token = auth_emulator.sign_up_anonymous()
    auth_emulator.disable_user(uid)

    response = http.put(
        "/v1/devices/install-e2e-1",
        headers=bearer(token),
        json={"platform": "ios", "app_version": "4.2.0"},
    )

    assert response.status_code == 401
    assert response.json()["code"] == "user_disabled"


def test_an_old_app_is_told_to_upgrade_before_anything_else(http: httpx2.Client) -> None:
    response = http.get("/v1/me", headers={"X-App-Version": "2.0.0"})

    assert response.status_code == 426
    assert response.json()["upgrade_url"].startswith("https://play.google.com/")
