"""A device asks its siblings to sync; every write says which device made it."""

from __future__ import annotations

import psycopg
from starlette.testclient import TestClient

from tests.conftest import ApiUser


def origins(database_url: str, user: ApiUser) -> list[tuple[str, str | None]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT type, origin_installation_id FROM outbox_events WHERE user_id = %s ORDER BY id",
            (user.uid,),
        )
        return [(str(t), None if o is None else str(o)) for t, o in rows]


def test_a_sync_request_is_accepted_with_the_version_to_sync_to(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    headers = alice.with_headers(X_Installation_Id="phone-0001")
    before = client.get("/v1/sync", headers=alice.headers).json()

    response = client.post("/v1/sync/requests", headers=headers)

    assert response.status_code == 202
    assert response.json()["version"] >= 1
    assert origins(database_url, alice) == [("sync.requested", "phone-0001")]
    # nothing the apps sync changed
    assert client.get("/v1/sync", headers=alice.headers).json()["changes"] == before["changes"]


def test_a_write_names_the_installation_that_made_it(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    body = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}
    client.post(
        "/v1/blocklists", headers=alice.with_headers(X_Installation_Id="tablet-0001"), json=body
    )
    client.post("/v1/blocklists", headers=alice.headers, json={**body, "name": "Feeds"})

    assert origins(database_url, alice) == [
        ("blocklist.created", "tablet-0001"),
        ("blocklist.created", None),
    ]


def test_a_malformed_installation_header_is_refused_and_nothing_is_written(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    response = client.post(
        "/v1/sync/requests", headers=alice.with_headers(X_Installation_Id="no spaces allowed")
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["field"] == "X-Installation-Id"
    assert problem["errors"][0]["code"] == "invalid_installation_id"
    assert origins(database_url, alice) == []
