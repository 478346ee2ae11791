"""/v1/blocklists as the apps call it, on a real database."""

from __future__ import annotations

import base64
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import ApiUser

SOCIAL = {
    "name": "Social",
    "items": [
        {"kind": "android_package", "value": "com.instagram.android"},
        {"kind": "web_domain", "value": "WWW.Instagram.com"},
        {"kind": "ios_token", "value": base64.b64encode(b"\x02" * 128).decode()},
        {"kind": "category", "value": "social"},
    ],
}


def create(client: TestClient, user: ApiUser, body: dict[str, Any] | None = None) -> Any:
    response = client.post("/v1/blocklists", headers=user.headers, json=body or SOCIAL)
    assert response.status_code == 201, response.text
    return response.json()


def errors(response: Any) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


def test_a_created_blocklist_is_read_back_from_its_location(
    client: TestClient, alice: ApiUser
) -> None:
    response = client.post("/v1/blocklists", headers=alice.headers, json=SOCIAL)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/blocklists/{body['id']}"
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    assert body["name"] == "Social"
    assert body["items"][1] == {"kind": "web_domain", "value": "www.instagram.com"}
    assert body["created_at"].endswith("Z")
    fetched = client.get(response.headers["Location"], headers=alice.headers)
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["ETag"] == response.headers["ETag"]


def test_duplicate_items_are_dropped(client: TestClient, alice: ApiUser) -> None:
    twice = {"kind": "web_domain", "value": "reddit.com"}
    body = create(
        client, alice, {"name": "News", "items": [twice, twice | {"value": "Reddit.com"}]}
    )

    assert body["items"] == [twice]


def test_an_invalid_item_is_refused_naming_its_index_and_nothing_is_stored(
    client: TestClient, alice: ApiUser
) -> None:
    items = [*SOCIAL["items"][:3], {"kind": "web_domain", "value": "https://example.com/feed"}]

    response = client.post(
        "/v1/blocklists", headers=alice.headers, json={"name": "Bad", "items": items}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_failed"
    assert errors(response) == [("items.3.value", "invalid_web_domain")]
    assert client.get("/v1/blocklists", headers=alice.headers).json()["items"] == []


def test_wire_level_mistakes_name_the_field(client: TestClient, alice: ApiUser) -> None:
    response = client.post(
        "/v1/blocklists",
        headers=alice.headers,
        json={"name": "", "items": [{"kind": "app", "value": "x"}], "version": 3},
    )

    assert response.status_code == 422
    assert set(errors(response)) == {
        ("name", "string_too_short"),
        ("items.0.kind", "enum"),
        ("version", "extra_forbidden"),
    }


def test_more_than_500_items_are_refused(client: TestClient, alice: ApiUser) -> None:
    items = [{"kind": "web_domain", "value": f"s{n}.example.com"} for n in range(501)]

    response = client.post(
        "/v1/blocklists", headers=alice.headers, json={"name": "Huge", "items": items}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "too_many_blocklist_items"


def test_the_51st_blocklist_is_refused(client: TestClient, alice: ApiUser) -> None:
    for n in range(50):
        create(client, alice, {"name": f"List {n}"})

    response = client.post("/v1/blocklists", headers=alice.headers, json={"name": "One more"})

    assert response.status_code == 422
    assert response.json()["code"] == "too_many_blocklists"


def test_a_patch_changes_only_the_fields_sent(client: TestClient, alice: ApiUser) -> None:
    created = create(client, alice)

    response = client.patch(
        f"/v1/blocklists/{created['id']}", headers=alice.headers, json={"name": "Feeds"}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["items"]) == ("Feeds", created["items"])
    assert body["version"] > created["version"]
    assert response.headers["ETag"] == f'"v{body["version"]}"'
    assert client.get(f"/v1/blocklists/{created['id']}", headers=alice.headers).json() == body


def test_a_patch_cannot_null_the_items(client: TestClient, alice: ApiUser) -> None:
    created = create(client, alice)

    response = client.patch(
        f"/v1/blocklists/{created['id']}", headers=alice.headers, json={"items": None}
    )

    assert response.status_code == 422
    assert errors(response) == [("items", "required")]


def test_a_stale_if_match_is_refused_with_412(client: TestClient, alice: ApiUser) -> None:
    created = create(client, alice)
    url = f"/v1/blocklists/{created['id']}"
    stale = f'"v{created["version"]}"'
    client.patch(url, headers=alice.headers, json={"name": "Newer"})

    patched = client.patch(url, headers=alice.with_headers(If_Match=stale), json={"name": "Old"})
    deleted = client.delete(url, headers=alice.with_headers(If_Match=stale))

    assert (patched.status_code, deleted.status_code) == (412, 412)
    assert patched.json()["code"] == "precondition_failed"
    assert client.get(url, headers=alice.headers).json()["name"] == "Newer"


def test_if_none_match_with_the_current_etag_gives_304(client: TestClient, alice: ApiUser) -> None:
    created = create(client, alice)
    url = f"/v1/blocklists/{created['id']}"
    etag = client.get(url, headers=alice.headers).headers["ETag"]

    response = client.get(url, headers=alice.with_headers(If_None_Match=etag))

    assert response.status_code == 304
    assert response.content == b""


def test_a_delete_with_the_current_etag_removes_the_blocklist(
    client: TestClient, alice: ApiUser
) -> None:
    created = create(client, alice)
    url = f"/v1/blocklists/{created['id']}"

    response = client.delete(url, headers=alice.with_headers(If_Match=f'"v{created["version"]}"'))

    assert response.status_code == 204
    assert client.get(url, headers=alice.headers).status_code == 404
    assert client.delete(url, headers=alice.headers).status_code == 404
    assert client.get("/v1/blocklists", headers=alice.headers).json()["items"] == []


def test_a_retried_post_with_the_same_key_creates_one_blocklist(
    client: TestClient, alice: ApiUser
) -> None:
    headers = alice.with_headers(Idempotency_Key="create-social-1")

    first = client.post("/v1/blocklists", headers=headers, json=SOCIAL)
    retry = client.post("/v1/blocklists", headers=headers, json=SOCIAL)
    other = client.post("/v1/blocklists", headers=headers, json={"name": "Other"})

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    listed = client.get("/v1/blocklists", headers=alice.headers).json()["items"]
    assert [b["id"] for b in listed] == [first.json()["id"]]


def test_pages_cover_every_blocklist_once_in_creation_order(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    made = [create(client, alice, {"name": f"List {n}"})["id"] for n in range(7)]
    create(client, bob)

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/blocklists", headers=alice.headers, params=params).json()
        seen += [b["id"] for b in page["items"]]
        pages += 1
        if (cursor := page["next_cursor"]) is None:
            break

    assert seen == made
    assert pages == 3


def test_a_cursor_the_api_did_not_issue_is_refused(client: TestClient, alice: ApiUser) -> None:
    forged = base64.urlsafe_b64encode(b'["nope"]').decode().rstrip("=")

    for cursor in ("%%%", forged):
        response = client.get("/v1/blocklists", headers=alice.headers, params={"cursor": cursor})
        assert response.status_code == 422
        assert errors(response) == [("cursor", "invalid_cursor")]


def test_another_users_blocklist_is_not_found_and_stays_untouched(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    created = create(client, alice)
    url = f"/v1/blocklists/{created['id']}"

    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.patch(url, headers=bob.headers, json={"name": "Mine"}).status_code == 404
    assert client.delete(url, headers=bob.headers).status_code == 404
    assert client.get("/v1/blocklists", headers=bob.headers).json()["items"] == []
    assert client.get(url, headers=alice.headers).json() == created
