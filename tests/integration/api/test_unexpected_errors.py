"""An error nobody foresaw still answers as every other answer does: problem+json, request id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser
from tests.support import db_faults

BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}


@pytest.fixture
def inserts_fail(database_url: str, alice: ApiUser) -> Iterator[None]:
    """While active, inserting alice's blocklist fails inside the database (not a lost
    connection: an error the API has no rule for)."""
    with db_faults.on_insert(
        database_url, "blocklists", alice.uid, "RAISE EXCEPTION 'no rule for this'"
    ):
        yield


@pytest.mark.usefixtures("inserts_fail")
def test_an_unexpected_error_is_a_500_problem_that_names_the_request(
    client: TestClient, alice: ApiUser
) -> None:
    echoed = client.post(
        "/v1/blocklists", headers=alice.with_headers(X_Request_Id="support-42"), json=BLOCKLIST
    )
    generated = client.post("/v1/blocklists", headers=alice.headers, json=BLOCKLIST)

    assert echoed.status_code == generated.status_code == 500
    assert echoed.headers["content-type"] == "application/problem+json"
    assert echoed.headers["X-Request-Id"] == "support-42"
    assert len(generated.headers["X-Request-Id"]) == 32
    assert echoed.headers["Cache-Control"] == "no-store"
    body = echoed.json()
    assert body["code"] == "internal_error"
    assert "support-42" in body["detail"]
    assert "no rule for this" not in echoed.text  # nothing of the cause reaches the client
