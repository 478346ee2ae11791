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

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
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
from tests.property.budget import DERANDOMIZE, EXAMPLES, PHASES
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
        headers=request["headers"],
        **body,
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    phases=PHASES,
    deadline=None,
    # One user per operation (a function-scoped fixture) is what we want: data accumulates
    # within an operation's examples, as it would on a phone.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_keeps_its_spec(
    case: schemathesis.Case, app: TestClient, alice: ApiUser
) -> None:
    response = send(app, case, {"Authorization": f"Bearer {alice.token}"})

    case.validate_response(response, checks=CHECKS)
