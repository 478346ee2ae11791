"""Firebase App Check on state-changing routes: per platform off, monitor or enforce."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from app.settings import Settings
from tests.conftest import ApiUser
from tests.support.app_check import PROJECT_ID, PROJECT_NUMBER, FakeAppCheck
from tests.support.configured_apps import AppFactory, configured_apps
from tests.support.google import new_signing_key
from tests.support.processes import free_port

SOME_ID = "3f2c1a9e-8d4b-4c6e-9f1a-2b3c4d5e6f70"
BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}


@pytest.fixture(scope="module")
def app_check() -> Iterator[FakeAppCheck]:
    fake = FakeAppCheck()
    yield fake
    fake.stop()


@pytest.fixture
def make_app(
    settings: Settings, database_url: str, app_check: FakeAppCheck
) -> Iterator[AppFactory]:
    with configured_apps(
        settings,
        database_url,
        firebase_project_id=PROJECT_ID,
        app_check_project_number=PROJECT_NUMBER,
        app_check_jwks_url=app_check.jwks_url,
    ) as make:
        yield make


def checks(platform: str, outcome: str) -> float:
    labels = {"platform": platform, "outcome": outcome}
    return REGISTRY.get_sample_value("focus_app_check_total", labels) or 0.0


def create(client: TestClient, headers: dict[str, str]) -> tuple[int, str | None]:
    response = client.post("/v1/blocklists", headers=headers, json=BLOCKLIST)
    code = response.json().get("code") if response.status_code >= 400 else None
    return response.status_code, code


def test_monitoring_counts_missing_invalid_and_valid_tokens_and_refuses_none(
    make_app: AppFactory, app_check: FakeAppCheck, alice: ApiUser
) -> None:
    client = make_app(app_check_ios="monitor")
    before = {o: checks("ios", o) for o in ("missing", "invalid", "valid")}

    answers = [
        create(client, alice.headers),
        create(client, alice.with_headers(X_Firebase_AppCheck="not-a-token")),
        create(client, alice.with_headers(X_Firebase_AppCheck=app_check.token())),
    ]

    assert answers == [(201, None)] * 3
    assert {o: checks("ios", o) - before[o] for o in before} == {
        "missing": 1,
        "invalid": 1,
        "valid": 1,
    }


def test_enforcing_refuses_a_write_without_a_token_with_403(
    make_app: AppFactory, alice: ApiUser
) -> None:
    client = make_app(app_check_ios="enforce")

    response = client.post("/v1/blocklists", headers=alice.headers, json=BLOCKLIST)

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "app_check_missing"
    assert "X-Firebase-AppCheck" in response.json()["detail"]


def test_enforcing_accepts_a_valid_token(
    make_app: AppFactory, app_check: FakeAppCheck, alice: ApiUser
) -> None:
    client = make_app(app_check_ios="enforce")

    assert create(client, alice.with_headers(X_Firebase_AppCheck=app_check.token())) == (
        201,
        None,
    )


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param({"key": "other"}, id="signed-by-another-key"),
        pytest.param({"exp": 1_700_000_000}, id="expired"),
        pytest.param({"aud": ["projects/999", "projects/someone-else"]}, id="another-project"),
        pytest.param(
            {"iss": "https://firebaseappcheck.googleapis.com/999"}, id="another-projects-issuer"
        ),
        pytest.param({"sub": ""}, id="no-app-id"),
    ],
)
def test_enforcing_refuses_a_token_that_is_not_ours(
    make_app: AppFactory, app_check: FakeAppCheck, alice: ApiUser, forged: dict[str, object]
) -> None:
    client = make_app(app_check_ios="enforce")
    key = new_signing_key() if forged.pop("key", None) else None

    token = app_check.token(key, **forged)

    assert create(client, alice.with_headers(X_Firebase_AppCheck=token)) == (
        403,
        "app_check_invalid",
    )


def test_each_platform_has_its_own_mode(make_app: AppFactory, alice: ApiUser) -> None:
    """Android enforces while the iOS app that sends tokens is still rolling out."""
    client = make_app(app_check_ios="off", app_check_android="enforce")

    assert create(client, alice.headers) == (201, None)
    assert create(client, alice.with_headers(X_Platform="android")) == (403, "app_check_missing")


def test_leaving_out_the_platform_does_not_skip_an_enforced_check(
    make_app: AppFactory, alice: ApiUser
) -> None:
    client = make_app(app_check_ios="enforce", app_check_android="monitor")
    headers = {k: v for k, v in alice.headers.items() if k != "X-Platform"}

    assert create(client, headers) == (403, "app_check_missing")


def test_reads_need_no_token(make_app: AppFactory, alice: ApiUser) -> None:
    client = make_app(app_check_ios="enforce", app_check_android="enforce")

    assert client.get("/v1/blocklists", headers=alice.headers).status_code == 200
    assert client.get("/v1/me", headers=alice.headers).status_code == 200


def test_changes_of_every_kind_are_checked(make_app: AppFactory, alice: ApiUser) -> None:
    client = make_app(app_check_ios="enforce")

    answers = {
        "PATCH": client.patch("/v1/me", headers=alice.headers, json={"timezone": "UTC"}),
        "DELETE": client.delete(
            f"/v1/blocklists/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=alice.headers
        ),
    }

    assert {m: r.json()["code"] for m, r in answers.items()} == {
        "PATCH": "app_check_missing",
        "DELETE": "app_check_missing",
    }


def test_while_app_checks_keys_cannot_be_fetched_writes_go_on_and_are_counted(
    settings: Settings, database_url: str, app_check: FakeAppCheck, alice: ApiUser
) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1/jwks"
    with configured_apps(
        settings,
        database_url,
        firebase_project_id=PROJECT_ID,
        app_check_project_number=PROJECT_NUMBER,
        app_check_jwks_url=down,
        app_check_ios="enforce",
    ) as make:
        client = make()
        before = checks("ios", "unavailable")

        answer = create(client, alice.with_headers(X_Firebase_AppCheck=app_check.token()))

    assert answer == (201, None)
    assert checks("ios", "unavailable") == before + 1
