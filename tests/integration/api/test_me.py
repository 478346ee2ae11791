from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import ApiUser


def test_first_call_creates_the_profile_with_defaults(client: TestClient, alice: ApiUser) -> None:
    response = client.get("/v1/me", headers=alice.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["uid"] == alice.uid
    assert body["timezone"] == "UTC"
    assert body["daily_goal_minutes"] == 60
    assert body["consents"] == {"ai_features": False, "analytics": False}
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    assert response.headers["Cache-Control"] == "no-store"
    assert body["created_at"].endswith("Z")


def test_patch_changes_only_the_fields_sent(client: TestClient, alice: ApiUser) -> None:
    client.get("/v1/me", headers=alice.headers)
    response = client.patch(
        "/v1/me",
        headers=alice.headers,
        json={"timezone": "Europe/Berlin", "consents": {"analytics": True}},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Europe/Berlin"
    assert body["consents"] == {"ai_features": False, "analytics": True}
    assert body["daily_goal_minutes"] == 60
    assert client.get("/v1/me", headers=alice.headers).json() == body


def test_an_unknown_timezone_is_refused_and_names_the_field(
    client: TestClient, alice: ApiUser
) -> None:
    response = client.patch("/v1/me", headers=alice.headers, json={"timezone": "Mars/Olympus"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["field"] == "timezone"
    assert client.get("/v1/me", headers=alice.headers).json()["timezone"] == "UTC"


def test_a_client_cannot_set_its_uid_or_version(client: TestClient, alice: ApiUser) -> None:
    response = client.patch(
        "/v1/me", headers=alice.headers, json={"uid": "someone-else", "version": 99}
    )

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"uid", "version"}
    assert client.get("/v1/me", headers=alice.headers).json()["uid"] == alice.uid


def test_a_stale_if_match_is_refused_with_412(client: TestClient, alice: ApiUser) -> None:
    etag = client.get("/v1/me", headers=alice.headers).headers["ETag"]
    client.patch("/v1/me", headers=alice.headers, json={"display_name": "Ada"})

    response = client.patch(
        "/v1/me", headers=alice.with_headers(If_Match=etag), json={"display_name": "Grace"}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert client.get("/v1/me", headers=alice.headers).json()["display_name"] == "Ada"


def test_if_none_match_with_the_current_etag_gives_304(client: TestClient, alice: ApiUser) -> None:
    etag = client.get("/v1/me", headers=alice.headers).headers["ETag"]

    response = client.get("/v1/me", headers=alice.with_headers(If_None_Match=etag))

    assert response.status_code == 304
    assert response.content == b""
