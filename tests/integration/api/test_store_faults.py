"""Faults: the database connection dies in the middle of a write."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from starlette.testclient import TestClient

from app.bootstrap import build, build_app
from app.settings import Settings
from tests.conftest import ApiUser
from tests.support import db_faults

BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}


@pytest.fixture
def connection_dies_on_insert(database_url: str, alice: ApiUser) -> Iterator[None]:
    """While active, the server connection that inserts alice's blocklist is terminated."""
    with db_faults.on_insert(
        database_url, "blocklists", alice.uid, "PERFORM pg_terminate_backend(pg_backend_pid())"
    ):
        yield


def test_a_connection_lost_mid_write_answers_503_and_saves_nothing(
    client: TestClient, alice: ApiUser, database_url: str, connection_dies_on_insert: None
) -> None:
    version_before = client.get("/v1/me", headers=alice.headers).json()["version"]
    keyed = alice.with_headers(Idempotency_Key="crash-1")

    response = client.post("/v1/blocklists", headers=keyed, json=BLOCKLIST)

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "2"
    with psycopg.connect(database_url) as conn:
        counter = conn.execute("SELECT change_seq FROM users WHERE uid = %s", (alice.uid,))
        assert counter.fetchone() == (version_before,)  # the version it took was rolled back
        keys = conn.execute(
            "SELECT count(*) FROM idempotency_keys WHERE user_id = %s", (alice.uid,)
        )
        assert keys.fetchone() == (0,)
        events = conn.execute("SELECT count(*) FROM outbox_events WHERE user_id = %s", (alice.uid,))
        assert events.fetchone() == (0,)  # no event of a change that never happened
    assert client.get("/v1/blocklists", headers=alice.headers).json()["items"] == []


def test_the_retry_after_the_fault_succeeds_once(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    keyed = alice.with_headers(Idempotency_Key="crash-2")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    first = client.post("/v1/blocklists", headers=keyed, json=BLOCKLIST)
    retry = client.post("/v1/blocklists", headers=keyed, json=BLOCKLIST)

    assert first.status_code == 201  # the pool noticed the dead connections and made new ones
    assert retry.json()["id"] == first.json()["id"]
    assert len(client.get("/v1/blocklists", headers=alice.headers).json()["items"]) == 1


def test_a_database_that_is_down_gives_503_and_not_ready(
    settings: Settings, alice: ApiUser
) -> None:
    # Nothing listens on port 1: every connection is refused at once.
    container = build(settings, "postgresql://postgres@127.0.0.1:1/none")
    with TestClient(build_app(container), raise_server_exceptions=False) as down:
        alive = down.get("/healthz")
        ready = down.get("/readyz")
        call = down.get("/v1/me", headers=alice.headers)

    assert alive.status_code == 200
    assert ready.status_code == 503
    assert call.status_code == 503
    assert call.json()["code"] == "service_unavailable"
