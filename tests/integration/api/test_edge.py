"""What every response shares: request ids, problem+json, body cap, upgrade signal, auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from starlette.testclient import TestClient

from api.config import ApiConfig, Deprecation
from api.middleware import deprecation_headers
from app.bootstrap import build, build_app
from app.settings import DeprecationRule, Settings
from tests.conftest import ApiUser


def test_a_request_id_is_echoed_or_generated(client: TestClient, alice: ApiUser) -> None:
    echoed = client.get("/v1/me", headers=alice.with_headers(X_Request_Id="req-123.abc"))
    generated = client.get("/v1/me", headers=alice.headers)
    hostile = client.get("/v1/me", headers=alice.with_headers(X_Request_Id="<script>"))

    assert echoed.headers["X-Request-Id"] == "req-123.abc"
    assert len(generated.headers["X-Request-Id"]) == 32
    assert hostile.headers["X-Request-Id"] != "<script>"


def test_a_call_without_a_token_gets_401_problem_json(client: TestClient) -> None:
    response = client.get("/v1/me")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["code"] == "token_missing"
    assert body["status"] == 401
    assert body["type"].startswith("https://")


def test_a_token_from_another_issuer_is_refused(client: TestClient, alice: ApiUser) -> None:
    forged = alice.token[:-4] + ("AAAA" if not alice.token.endswith("AAAA") else "BBBB")

    response = client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert response.json()["code"] in {"token_invalid", "token_malformed"}


def test_an_unknown_route_is_a_problem_not_a_stack_trace(
    client: TestClient, alice: ApiUser
) -> None:
    response = client.get("/v1/nothing-here", headers=alice.headers)

    assert response.status_code == 404
    assert response.json()["code"] == "route_not_found"


def test_a_body_over_the_cap_is_refused_with_413(client: TestClient, alice: ApiUser) -> None:
    huge = "x" * (300 * 1024)

    response = client.patch("/v1/me", headers=alice.headers, json={"display_name": huge})

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert client.get("/v1/me", headers=alice.headers).json()["display_name"] is None


def test_a_body_over_the_cap_without_content_length_is_refused(
    client: TestClient, alice: ApiUser
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 10_000

    response = client.patch(
        "/v1/me", headers=alice.with_headers(Content_Type="application/json"), content=chunks()
    )

    assert response.status_code == 413


def test_an_app_below_the_minimum_version_is_told_to_upgrade(
    client: TestClient, alice: ApiUser
) -> None:
    response = client.get("/v1/me", headers=alice.with_headers(X_App_Version="2.9.9"))

    assert response.status_code == 426
    body = response.json()
    assert body["code"] == "upgrade_required"
    assert body["min_version"] == "3.0.0"
    assert body["upgrade_url"].startswith("https://")


def test_an_app_at_the_minimum_version_is_served(client: TestClient, alice: ApiUser) -> None:
    response = client.get(
        "/v1/me", headers=alice.with_headers(X_App_Version="3.0.0", X_Platform="android")
    )

    assert response.status_code == 200


def test_a_garbled_app_version_is_a_400(client: TestClient, alice: ApiUser) -> None:
    response = client.get("/v1/me", headers=alice.with_headers(X_App_Version="banana"))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_app_version"


def test_health_probes_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_deprecation_headers_follow_rfc_9745_and_8594() -> None:
    rule = Deprecation(
        path_prefix="/v1/stats",
        deprecated_at=datetime(2026, 6, 1, tzinfo=UTC),
        sunset_at=datetime(2027, 1, 1, tzinfo=UTC),
        link="https://docs.focus.app/migrate-stats",
    )

    headers = deprecation_headers(rule)

    assert headers["Deprecation"] == "@1780272000"
    assert headers["Sunset"] == "Fri, 01 Jan 2027 00:00:00 GMT"
    assert headers["Link"].startswith("<https://docs.focus.app/migrate-stats>")
    assert ApiConfig(deprecations=(rule,)).deprecations[0] is rule


def test_configured_deprecations_are_announced_on_matching_responses(
    settings: Settings, database_url: str, alice: ApiUser
) -> None:
    rule = DeprecationRule(
        path_prefix="/v1/devices",
        deprecated_at=datetime(2026, 6, 1, tzinfo=UTC),
        sunset_at=datetime(2027, 1, 1, tzinfo=UTC),
        link="https://docs.focus.app/devices-v2",
    )
    configured = settings.model_copy(update={"deprecations": [rule]})
    with TestClient(build_app(build(configured, database_url))) as deprecating:
        devices = deprecating.get("/v1/devices", headers=alice.headers)
        me = deprecating.get("/v1/me", headers=alice.headers)

    assert devices.headers["Deprecation"] == "@1780272000"
    assert devices.headers["Sunset"] == "Fri, 01 Jan 2027 00:00:00 GMT"
    assert (
        devices.headers["Link"]
        == '<https://docs.focus.app/devices-v2>; rel="deprecation"; type="text/html"'
    )
    assert "Deprecation" not in me.headers


def test_each_header_the_edge_adds_is_sent_once(client: TestClient, alice: ApiUser) -> None:
    """Problems set `Cache-Control` themselves; the edge adds what an answer lacks, never a
    second line, on a success, a problem, a refusal before routing and a 304 alike."""
    found = client.get("/v1/me", headers=alice.headers)
    answers = [
        found,
        client.get(
            "/v1/focus-sessions/00000000-0000-0000-0000-000000000000", headers=alice.headers
        ),
        client.get("/v1/me", headers=alice.with_headers(X_App_Version="1.0.0")),
        client.get("/v1/me", headers=alice.with_headers(If_None_Match=found.headers["ETag"])),
    ]
    assert [a.status_code for a in answers] == [200, 404, 426, 304]
    for answer in answers:
        assert answer.headers.get_list("cache-control") == ["no-store"], answer.status_code
        assert len(answer.headers.get_list("x-request-id")) == 1, answer.status_code
