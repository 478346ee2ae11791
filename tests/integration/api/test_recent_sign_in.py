"""Destructive account actions need a recent sign-in (`auth_time`), as the apps see it.

No route needs it yet (deleting the account will): the tests mount one of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from api.deps import RecentlySignedIn
from app.settings import Settings
from identity.dev_issuer import AUDIENCE, DevTokenIssuer, load_or_create_secret
from tests.support.configured_apps import AppFactory, configured_apps

DESTRUCTIVE = "/v1/test-only/destructive"


async def destroy(user: RecentlySignedIn) -> dict[str, str]:
    return {"uid": user.uid}


@pytest.fixture
def make_app(settings: Settings, database_url: str) -> Iterator[AppFactory]:
    with configured_apps(settings, database_url) as make:

        def with_route(**overrides: object) -> TestClient:
            client = make(**overrides)
            assert isinstance(client.app, FastAPI)
            client.app.add_api_route(DESTRUCTIVE, destroy, methods=["DELETE"])
            return client

        yield with_route


def signed_in(issuer: DevTokenIssuer, ago: timedelta) -> dict[str, str]:
    """Headers of a user who signed in `ago` (the token itself was refreshed just now)."""
    uid = f"u-{uuid.uuid4().hex[:20]}"
    token = issuer.issue(uid, signed_in_at=datetime.now(UTC) - ago)
    return {"Authorization": f"Bearer {token}", "X-Platform": "ios", "X-App-Version": "4.2.0"}


def test_a_user_who_just_signed_in_may_do_it(
    make_app: AppFactory, dev_issuer: DevTokenIssuer
) -> None:
    client = make_app()

    response = client.delete(DESTRUCTIVE, headers=signed_in(dev_issuer, timedelta(minutes=1)))

    assert response.status_code == 200


def test_an_old_sign_in_is_asked_to_sign_in_again(
    make_app: AppFactory, dev_issuer: DevTokenIssuer
) -> None:
    client = make_app()

    response = client.delete(DESTRUCTIVE, headers=signed_in(dev_issuer, timedelta(minutes=10)))

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "recent_sign_in_required"
    assert "5 minutes" in response.json()["detail"]
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'max_age="300"' in challenge


def test_how_recent_is_a_setting(make_app: AppFactory, dev_issuer: DevTokenIssuer) -> None:
    client = make_app(recent_sign_in_minutes=15)

    response = client.delete(DESTRUCTIVE, headers=signed_in(dev_issuer, timedelta(minutes=10)))

    assert response.status_code == 200


def test_a_token_that_does_not_say_when_the_user_signed_in_is_not_recent(
    make_app: AppFactory, settings: Settings
) -> None:
    client = make_app()
    now = datetime.now(UTC)
    claims = {"iss": "focus-dev", "sub": "u-no-auth-time", "aud": AUDIENCE}
    claims |= {"iat": now, "exp": now + timedelta(hours=1)}
    token = jwt.encode(claims, load_or_create_secret(settings.dev_secret_path), "HS256")

    response = client.delete(DESTRUCTIVE, headers={"Authorization": f"Bearer {token}"})

    assert response.json()["code"] == "recent_sign_in_required"
