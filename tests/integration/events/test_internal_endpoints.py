"""/internal/*: what Pub/Sub push and Cloud Tasks see, and who may call them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from app.bootstrap import build, build_app
from app.settings import Settings
from app.spec import openapi_documents
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.codec import encode
from tests.conftest import ApiUser
from tests.support.google import new_signing_key
from tests.support.key_set_server import KeySetServer

AUDIENCE = "https://focus-api.example.run.app"
INVOKER = "pubsub-push@demo-focus.iam.gserviceaccount.com"


def envelope(data: bytes, attempt: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": {"event_type": "schedule.updated"},
            "messageId": "1234",
            "message_id": "1234",
            "publishTime": "2026-11-23T09:00:00Z",
        },
        "subscription": "projects/demo-focus/subscriptions/focus-events-notifications",
    }
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return body


def test_a_pushed_event_is_acknowledged_with_204(client: TestClient, alice: ApiUser) -> None:
    client.get("/v1/me", headers=alice.headers)  # the user exists
    event = DomainEvent(EventType.SCHEDULE_UPDATED, alice.uid, str(uuid.uuid4()), 3, utc_now())

    response = client.post("/internal/pubsub/notifications", json=envelope(encode(event)))

    assert response.status_code == 204


def test_a_push_for_a_subscription_nobody_consumes_is_404(client: TestClient) -> None:
    response = client.post("/internal/pubsub/nobody", json=envelope(b"{}"))

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_subscription"


def test_a_pushed_message_that_is_not_an_event_is_acknowledged_and_kept(
    client: TestClient, database_url: str
) -> None:
    marker = f"poison-{uuid.uuid4()}"
    body = envelope(b"\x00 not an event")
    body["message"]["attributes"]["event_id"] = marker

    response = client.post("/internal/pubsub/notifications", json=body)

    assert response.status_code == 204
    with psycopg.connect(database_url) as conn:
        kept = conn.execute(
            "SELECT data FROM failed_messages WHERE event_id = %s", (marker,)
        ).fetchone()
    assert kept is not None
    assert bytes(kept[0]) == b"\x00 not an event"


def test_a_pushed_event_of_an_undeclared_type_is_acknowledged_and_kept_by_name(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    client.get("/v1/me", headers=alice.headers)  # the user exists
    event = DomainEvent(EventType.SCHEDULE_UPDATED, alice.uid, str(uuid.uuid4()), 3, utc_now())
    data = encode(event).replace(b'"schedule.updated"', b'"schedule.renamed"')
    body = envelope(data)
    body["message"]["attributes"]["event_id"] = str(event.id)

    response = client.post("/internal/pubsub/notifications", json=body)

    assert response.status_code == 204
    with psycopg.connect(database_url) as conn:
        kept = conn.execute(
            "SELECT data, error FROM failed_messages WHERE event_id = %s", (str(event.id),)
        ).fetchone()
        handled = conn.execute(
            "SELECT count(*) FROM processed_events WHERE event_id = %s", (event.id,)
        ).fetchone()
    assert kept is not None
    assert bytes(kept[0]) == data
    assert kept[1] == (
        "UndecodableEvent: UnknownEventType: 'schedule.renamed' is not a declared event type"
    )
    assert handled == (0,)


def test_the_internal_endpoints_are_not_in_the_mobile_spec() -> None:
    for spec in openapi_documents().values():
        assert not [path for path in spec["paths"] if "internal" in path]


def test_a_task_of_a_kind_nobody_handles_is_404(client: TestClient) -> None:
    response = client.post("/internal/tasks/nobody.knows", json={})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_task_kind"


def test_a_delayed_push_for_a_device_that_is_gone_does_nothing(client: TestClient) -> None:
    payload = {"user_id": "u-nobody", "installation_id": "gone-0001"}
    assert client.post("/internal/tasks/push.deliver", json=payload).status_code == 204


# --- Google's OIDC token on /internal/* -------------------------------------------------


class Google:
    """Signs tokens the way Google does for push subscriptions, with a key of our own, and
    publishes its key set on loopback as Google does at googleapis.com/oauth2/v3/certs."""

    def __init__(self) -> None:
        self.key = new_signing_key()
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.keys = KeySetServer([{**jwk, "kid": "g1", "alg": "RS256"}], "/oauth2/v3/certs")
        self.jwks_url = self.keys.url

    def token(self, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": AUDIENCE,
            "email": INVOKER,
            "email_verified": True,
            "sub": "1234567890",
            "iat": now,
            "exp": now + 3600,
            **overrides,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": "g1"})


@pytest.fixture(scope="module")
def google() -> Iterator[Google]:
    google = Google()
    yield google
    google.keys.stop()


@pytest.fixture(scope="module")
def guarded(settings: Settings, database_url: str, google: Google) -> Iterator[TestClient]:
    configured = settings.model_copy(
        update={
            "internal_audience": AUDIENCE,
            "internal_invoker": INVOKER,
            "google_jwks_url": google.jwks_url,
        }
    )
    with TestClient(build_app(build(configured, database_url))) as client:
        yield client


def push(client: TestClient, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = envelope(b"{}")
    return client.post("/internal/pubsub/notifications", json=body, headers=headers).status_code


def test_a_push_signed_by_google_for_our_invoker_is_accepted(
    guarded: TestClient, google: Google
) -> None:
    assert push(guarded, google.token()) == 204


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"aud": "https://someone-else.run.app"}, 401),
        ({"iss": "https://evil.example"}, 401),
        ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 4200}, 401),
        ({"email": "attacker@other-project.iam.gserviceaccount.com"}, 403),
        ({"email_verified": False}, 403),
    ],
    ids=["foreign-audience", "foreign-issuer", "expired", "other-account", "unverified-email"],
)
def test_a_push_with_a_wrong_token_is_refused(
    guarded: TestClient, google: Google, claims: dict[str, Any], status: int
) -> None:
    assert push(guarded, google.token(**claims)) == status


def test_a_push_without_a_token_or_with_a_forged_signature_is_refused(
    guarded: TestClient, google: Google
) -> None:
    assert push(guarded, None) == 401
    assert push(guarded, google.token(key=new_signing_key())) == 401


def test_tasks_need_the_token_too(guarded: TestClient, google: Google) -> None:
    payload = {"user_id": "u-nobody", "installation_id": "gone-0001"}
    assert guarded.post("/internal/tasks/push.deliver", json=payload).status_code == 401
    headers = {"Authorization": f"Bearer {google.token()}"}
    response = guarded.post("/internal/tasks/push.deliver", json=payload, headers=headers)
    assert response.status_code == 204
