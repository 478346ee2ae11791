"""List pages: opaque cursors and a clamped limit, the same on every list."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser


@pytest.fixture
def three_blocklists(client: TestClient, alice: ApiUser) -> list[str]:
    ids = []
    for name in ("One", "Two", "Three"):
        body = {"name": name, "items": [{"kind": "category", "value": "social"}]}
        ids.append(client.post("/v1/blocklists", headers=alice.headers, json=body).json()["id"])
    return ids


@pytest.mark.parametrize(("limit", "expected"), [("0", 1), ("-5", 1), ("100000", 3)])
def test_a_limit_out_of_range_is_clamped_not_refused(
    client: TestClient, alice: ApiUser, three_blocklists: list[str], limit: str, expected: int
) -> None:
    response = client.get("/v1/blocklists", headers=alice.headers, params={"limit": limit})

    assert response.status_code == 200
    assert len(response.json()["items"]) == expected


def test_following_cursors_visits_every_item_once(
    client: TestClient, alice: ApiUser, three_blocklists: list[str]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/blocklists", headers=alice.headers, params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == three_blocklists


def test_a_cursor_that_was_not_issued_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = client.get("/v1/blocklists", headers=alice.headers, params={"cursor": "%%%"})

    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "cursor",
        "code": "invalid_cursor",
        "message": "not a cursor this API issued",
    }
