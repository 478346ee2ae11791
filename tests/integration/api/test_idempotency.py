"""Idempotency-Key on POST, with Stripe's semantics, on a real database."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import psycopg
from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.support.clock import TestClock

SOCIAL = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}
NEWS = {"name": "News", "items": [{"kind": "web_domain", "value": "news.ycombinator.com"}]}


def post(
    client: TestClient,
    user: ApiUser,
    key: str,
    body: dict[str, object],
    path: str = "/v1/blocklists",
) -> httpx2.Response:
    return client.post(path, headers=user.with_headers(Idempotency_Key=key), json=body)


def names(client: TestClient, user: ApiUser) -> list[str]:
    return [b["name"] for b in client.get("/v1/blocklists", headers=user.headers).json()["items"]]


def test_a_retry_with_the_same_key_replays_the_first_response(
    client: TestClient, alice: ApiUser
) -> None:
    first = post(client, alice, "key-1", SOCIAL)
    retry = post(client, alice, "key-1", SOCIAL)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert names(client, alice) == ["Social"]


def test_the_same_key_with_another_body_is_refused(client: TestClient, alice: ApiUser) -> None:
    post(client, alice, "key-2", SOCIAL)

    reused = post(client, alice, "key-2", NEWS)

    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert names(client, alice) == ["Social"]


def test_the_same_key_on_another_path_is_refused(client: TestClient, alice: ApiUser) -> None:
    post(client, alice, "key-3", SOCIAL)

    reused = post(
        client,
        alice,
        "key-3",
        {"planned_duration_minutes": 25, "mode": "normal"},
        "/v1/focus-sessions",
    )

    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_one_user(client: TestClient, alice: ApiUser, bob: ApiUser) -> None:
    post(client, alice, "shared-key", SOCIAL)

    bobs = post(client, bob, "shared-key", NEWS)

    assert bobs.status_code == 201
    assert names(client, bob) == ["News"]
    assert names(client, alice) == ["Social"]


def test_a_concurrent_duplicate_is_refused_with_409(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    # Another request with the key is mid-flight: it holds the key's transaction lock.
    with psycopg.connect(database_url) as in_flight:
        in_flight.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"idempotency:{alice.uid}:key-4",),
        )
        duplicate = post(client, alice, "key-4", SOCIAL)

    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "idempotency_request_in_progress"
    assert names(client, alice) == []
    assert post(client, alice, "key-4", SOCIAL).status_code == 201


def test_a_refused_request_does_not_burn_its_key(client: TestClient, alice: ApiUser) -> None:
    invalid = post(
        client,
        alice,
        "key-5",
        {"name": "Bad", "items": [{"kind": "web_domain", "value": "not a domain"}]},
    )

    valid = post(client, alice, "key-5", SOCIAL)

    assert invalid.status_code == 422
    assert valid.status_code == 201
    assert "Idempotent-Replayed" not in valid.headers


def test_a_key_is_forgotten_after_24_hours(
    client: TestClient, alice: ApiUser, clock: TestClock
) -> None:
    post(client, alice, "key-6", SOCIAL)
    clock.advance(timedelta(hours=24, minutes=1))

    later = post(client, alice, "key-6", NEWS)

    assert later.status_code == 201
    assert sorted(names(client, alice)) == ["News", "Social"]


def test_an_unprintable_key_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = post(client, alice, "x" * 300, SOCIAL)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert names(client, alice) == []
