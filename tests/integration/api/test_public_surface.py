"""What the service exposes in production: the routes written below and nothing else, no docs
unless configured, Google's token on /internal/*, no CORS."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.testclient import TestClient

from app.settings import Settings
from tests.support.apns_rules import ApnsCredentials
from tests.support.configured_apps import AppFactory, configured_apps
from tests.support.google import new_signing_key, write_service_account
from tests.support.processes import free_port

PRODUCTION_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/internal/pubsub/legacy-sync"),
    ("POST", "/internal/pubsub/{subscription}"),
    ("POST", "/internal/tasks/{kind}"),
    ("GET", "/v1/me"),
    ("PATCH", "/v1/me"),
    ("DELETE", "/v1/me"),
    ("GET", "/v1/devices"),
    ("GET", "/v1/devices/{installation_id}"),
    ("PUT", "/v1/devices/{installation_id}"),
    ("DELETE", "/v1/devices/{installation_id}"),
    ("GET", "/v1/blocklists"),
    ("POST", "/v1/blocklists"),
    ("GET", "/v1/blocklists/{blocklist_id}"),
    ("PATCH", "/v1/blocklists/{blocklist_id}"),
    ("DELETE", "/v1/blocklists/{blocklist_id}"),
    ("GET", "/v1/schedules"),
    ("POST", "/v1/schedules"),
    ("GET", "/v1/schedules/{schedule_id}"),
    ("PATCH", "/v1/schedules/{schedule_id}"),
    ("DELETE", "/v1/schedules/{schedule_id}"),
    ("GET", "/v1/focus-sessions"),
    ("POST", "/v1/focus-sessions"),
    ("GET", "/v1/focus-sessions/{session_id}"),
    ("POST", "/v1/focus-sessions/{session_id}/end"),
    ("GET", "/v1/usage"),
    ("GET", "/v1/usage/{date}"),
    ("PUT", "/v1/usage/{date}"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/sync"),
    ("POST", "/v1/sync/requests"),
    ("POST", "/v1/privacy/exports"),
    ("GET", "/v1/privacy/requests/{request_id}"),
    ("GET", "/v1/insights"),
    ("GET", "/v1/insights/{insight_id}"),
    ("POST", "/v1/insights/{insight_id}/dismiss"),
    ("POST", "/v1/insights/{insight_id}/accept"),
    ("GET", "/v1/ai/consents"),
    ("PUT", "/v1/ai/consents"),
}
"""Every route of the production app. A new one is added here on purpose, or this test fails."""

DOCS_ROUTES = {
    (method, path)
    for method in ("GET", "HEAD")
    for path in ("/docs", "/docs/oauth2-redirect", "/openapi.json")
}


@pytest.fixture
def production_apps(
    settings: Settings,
    database_url: str,
    apns_credentials: ApnsCredentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[AppFactory]:
    """Apps configured as on Cloud Run (terraform/run.tf), every Google and Apple host
    replaced by nothing: no request below needs one."""
    account = write_service_account(tmp_path, new_signing_key(), "demo-focus")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))  # Pub/Sub, Cloud Tasks
    apns_key = tmp_path / "apns.p8"
    apns_key.write_text(apns_credentials.private_key_pem)
    nobody = f"127.0.0.1:{free_port()}"
    production = {
        "env": "production",
        "auth": None,
        "events": None,
        "push": None,
        "tasks": None,
        "relay_in_process": None,
        "task_worker_in_process": None,
        "mirror_repair_in_process": None,
        "firebase_project_id": "demo-focus",
        # The session's settings name the Auth emulator once a test has started it.
        "firebase_auth_emulator_host": None,
        "internal_audience": "https://focus-api.example.run.app",
        "internal_invoker": "pubsub-push@demo-focus.iam.gserviceaccount.com",
        "google_jwks_url": f"http://{nobody}/oauth2/v3/certs",
        "apns_key_id": apns_credentials.key_id,
        "apns_team_id": apns_credentials.team_id,
        "apns_topic": apns_credentials.topic,
        "apns_key_file": apns_key,
        "fcm_credentials_file": account,
        "cloud_tasks_target_url": "https://focus-api.example.run.app",
        "rate_limit_storage": f"async+redis://{nobody}/0",
        "files_bucket": "demo-focus-focus-files",
        "privacy_subject_key": "k" * 48,
    }
    as_deployed = settings.model_copy(update={"database_url": database_url})
    with configured_apps(as_deployed, database_url, **production) as make:
        yield make


@pytest.fixture
def production(production_apps: AppFactory) -> TestClient:
    return production_apps()


def test_production_serves_exactly_the_routes_of_the_allow_list(production: TestClient) -> None:
    assert live_routes(production.app) == PRODUCTION_ROUTES


LOCAL_FILES = {("GET", "/files/{key:path}")}
"""The local file store's signed links: GCS serves its own in production."""


STAFF_ROUTES = {
    ("GET", "/staff/v1/privacy/requests"),
    ("POST", "/staff/v1/privacy/requests"),
    ("GET", "/staff/v1/privacy/requests/{request_id}"),
    ("GET", "/staff/v1/privacy/requests/{request_id}/audit"),
    ("GET", "/staff/v1/privacy/requests/{request_id}/dry-run"),
    *(
        ("POST", f"/staff/v1/privacy/requests/{{request_id}}/{action}")
        for action in ("verify", "approve", "refuse", "cancel", "extend", "run")
    ),
}
"""The internal staff API (ADR 0019): served outside production by default; in production
only by the compliance console's own service (FOCUS_STAFF_API), behind IAP."""


CONSOLE_ROUTES = {
    ("GET", "/console/"),
    ("GET", "/console/requests/new"),
    ("POST", "/console/requests"),
    ("GET", "/console/requests/{request_id}"),
    *(
        ("POST", f"/console/requests/{{request_id}}/{action}")
        for action in ("verify", "approve", "refuse", "cancel", "extend", "run", "download")
    ),
    ("GET", "/console/audit"),
    ("GET", "/console/audit.csv"),
    ("GET", "/console/dashboard"),
    ("POST", "/console/sign-out"),
    ("GET", "/console/static/console.css"),
    ("GET", "/console/dev-sign-in"),
    ("POST", "/console/dev-sign-in"),
    ("GET", "/console/{rest:path}"),
    ("POST", "/console/{rest:path}"),
}
"""The compliance console (api/console/), served where the staff API is; its dev sign-in only
with the dev staff verifier (never behind IAP); any other path under it, its own 404 page."""


def test_outside_production_the_docs_local_files_and_staff_api_are_the_only_other_routes(
    client: TestClient,
) -> None:
    expected = PRODUCTION_ROUTES | DOCS_ROUTES | LOCAL_FILES | STAFF_ROUTES | CONSOLE_ROUTES
    assert live_routes(client.app) == expected


def test_the_apps_routes_are_matched_before_any_other_group(client: TestClient) -> None:
    """A request is matched against the routes in order, and FastAPI tries every route of an
    included router: the staff and console routes in front of /v1 made each mobile read try
    ~40 routes first (bench/README.md, "Route order")."""
    assert isinstance(client.app, FastAPI)
    order = [
        path
        for route in client.app.router.routes
        for path in ([route.path] if isinstance(route, APIRoute) else [None])
    ]
    versioned = [n for n, path in enumerate(order) if path and path.startswith("/v1/")]
    others = [n for n, path in enumerate(order) if not (path and path.startswith("/v1/"))]

    assert versioned == list(range(len(versioned)))  # FastAPI's own docs routes too come after
    assert len(others) > len(DOCS_ROUTES) // 2  # docs, health, internal, files, staff, console


def test_production_serves_no_docs_and_no_spec(production: TestClient) -> None:
    for path in ("/docs", "/openapi.json"):
        response = production.get(path)

        assert response.status_code == 404
        assert response.json()["code"] == "route_not_found"


def test_production_serves_the_docs_when_configured(
    production_apps: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOCUS_EXPOSE_DOCS", "true")
    production = production_apps(expose_docs=Settings(_env_file=None).expose_docs)

    assert production.get("/docs").status_code == 200
    assert "/v1/me" in production.get("/openapi.json").json()["paths"]


def test_outside_production_the_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").headers["content-type"].startswith("text/html")
    assert "/v1/me" in client.get("/openapi.json").json()["paths"]


def test_every_internal_route_needs_a_google_token_in_production(production: TestClient) -> None:
    internal = [path for _, path in live_routes(production.app) if path.startswith("/internal/")]

    assert internal
    for path in internal:
        missing = production.post(sample(path), json={})
        forged = production.post(sample(path), json={}, headers={"Authorization": "Bearer x.y.z"})

        assert (missing.status_code, missing.json()["code"]) == (401, "token_missing"), path
        assert (forged.status_code, forged.json()["code"]) == (401, "token_invalid"), path


def test_no_route_lets_a_browser_preflight_through(production: TestClient) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    for path in sorted({path for _, path in live_routes(production.app)}):
        response = production.options(sample(path), headers=preflight)

        assert response.status_code == 405, path
        assert cors_headers(response.headers) == [], path


def test_answers_carry_no_cors_headers(production: TestClient) -> None:
    origin = {"Origin": "https://evil.example"}

    assert cors_headers(production.get("/healthz", headers=origin).headers) == []
    assert cors_headers(production.get("/v1/me", headers=origin).headers) == []


def live_routes(app: object) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, included routers flattened."""
    assert isinstance(app, FastAPI)
    return {
        (method, route.path or "")
        for route in iter_route_contexts(app.routes)
        for method in route.methods or {"*"}
    }


def sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "sample-0001", path)


def cors_headers(headers: Mapping[str, str]) -> list[str]:
    return [name for name in headers if name.lower().startswith("access-control-")]
