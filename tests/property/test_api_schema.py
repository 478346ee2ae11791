"""Schemathesis against the app, generated from the committed spec (openapi/v1.json).

Every operation, its body, path, query and documented headers (If-Match, If-None-Match,
Idempotency-Key, X-Installation-Id, ...): valid data (positive) and data breaking one
constraint (negative), from the spec's examples, its boundaries (coverage) and at random.
Each answer must be documented, conform to its schema, and never be a server error; a
request breaking a documented constraint must be refused (the spec tells the truth).
Only `Authorization` is ours: a real token of a fresh user per operation.

`make property` runs more examples (FOCUS_PROPERTY_EXAMPLES).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from app.settings import Settings
from tests.conftest import ApiUser
from tests.property.budget import ONE_USER_EACH
from tests.support.configured_apps import configured_apps

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "v1.json"

CONFIG = schemathesis.Config.from_dict(
    {
        # Unknown query parameters and headers are ignored by design (HTTP clients and proxies
        # add their own); the spec cannot forbid them, so sending them proves nothing.
        "generation": {"allow-extra-parameters": False},
        "checks": {
            # What a request breaking a documented constraint may get: refused, not served.
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "404", "405", "409", "412", "413", "422", "426"]
            }
        },
    }
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def app(settings: Settings, database_url: str) -> Iterator[TestClient]:
    """The app without rate limits: a limit would answer 429 before anything is checked."""
    with configured_apps(settings, database_url, rate_limits=False) as make:
        yield make()


def send(client: TestClient, case: schemathesis.Case, headers: dict[str, str]) -> Any:
    """The case as the apps would send it, through the app in this process."""
    request = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    elif request.get("data") is not None:
        body["content"] = request["data"]
    return client.request(
        request["method"],
        request["url"],
        params=request.get("params"),
        # Header values travel as latin-1 octets (the TestClient passes them on as UTF-8).
        headers={name: str(value).encode("latin-1") for name, value in request["headers"].items()},
        **body,
    )


def _existing(app: TestClient, user: ApiUser, name: str, generated: str) -> str:
    """A record of `user` that the path parameter `name` can name, made now."""
    headers = user.headers
    if name == "installation_id":
        body = {"platform": "ios", "app_version": "4.2.0"}
        app.put(f"/v1/devices/{quote(generated, safe='')}", headers=headers, json=body)
        return generated
    if name in ("blocklist_id", "schedule_id"):
        made = app.post("/v1/blocklists", headers=headers, json={"name": "Social"}).json()
        if name == "blocklist_id":
            return str(made["id"])
        schedule = {
            "name": "Nights",
            "days": ["mon"],
            "start_local": "22:00",
            "end_local": "06:00",
            "timezone": "Europe/Berlin",
            "blocklist_id": made["id"],
        }
        return str(app.post("/v1/schedules", headers=headers, json=schedule).json()["id"])
    if name == "session_id":
        start = {"planned_duration_minutes": 25}
        started = app.post("/v1/focus-sessions", headers=headers, json=start)
        if started.status_code == 409:  # one runs already: that one
            started = app.get("/v1/focus-sessions", headers=headers, params={"limit": 1})
            return str(started.json()["items"][0]["id"])
        return str(started.json()["id"])
    return generated


def _on_existing_records(
    app: TestClient, make_user: Callable[[], ApiUser], case: schemathesis.Case
) -> ApiUser | None:
    """Half of the valid cases act on records that exist, so that what follows the lookup
    (merge patches, preconditions, ends of sessions) is reached, not only 404. A new user
    each time: the records do not pile up to a cap."""
    meta = case.meta
    if not case.path_parameters or meta is None or not meta.generation.mode.is_positive:
        return None
    if zlib.crc32(repr((case.path_parameters, case.body)).encode()) % 2:
        return None
    user = make_user()
    for name, generated in list(case.path_parameters.items()):
        case.path_parameters[name] = _existing(app, user, name, str(generated))
    return user


@schema.parametrize()
@ONE_USER_EACH
def test_every_operation_keeps_its_spec(
    case: schemathesis.Case, app: TestClient, alice: ApiUser, make_user: Callable[[], ApiUser]
) -> None:
    user = _on_existing_records(app, make_user, case) or alice
    response = send(app, case, {"Authorization": f"Bearer {user.token}"})

    case.validate_response(response, checks=CHECKS)
