"""An error nobody foresaw still answers as every other answer does: problem+json, request id."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from starlette.testclient import TestClient

from tests.conftest import ApiUser

BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}


@pytest.fixture
def inserts_fail(database_url: str, alice: ApiUser) -> Iterator[None]:
    """While active, inserting alice's blocklist fails inside the database (not a lost
    connection: an error the API has no rule for)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'no rule for this'; END $$"
        )
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER test_fail BEFORE INSERT ON blocklists FOR EACH ROW"
                " WHEN (NEW.user_id = {}) EXECUTE FUNCTION test_fail()"
            ).format(sql.Literal(alice.uid))
        )
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER IF EXISTS test_fail ON blocklists")
            conn.execute("DROP FUNCTION IF EXISTS test_fail()")


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
