"""Conditional requests as RFC 9110 §13.1 has them: strong If-Match, lists, `*`."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import ApiUser

DEVICE = {"platform": "android", "app_version": "4.2.0"}


def _octets(user: ApiUser, **headers: str) -> dict[str, bytes]:
    """The user's headers with `headers` added, as octets: HTTP header values are bytes, which
    servers read as ISO-8859-1, so `²` arrives as the character, not as UTF-8 bytes."""
    return {k: v.encode("latin-1") for k, v in user.with_headers(**headers).items()}


def _patch_me(client: TestClient, user: ApiUser, **headers: str) -> int:
    response = client.patch("/v1/me", headers=user.with_headers(**headers), json={"locale": "de"})
    return response.status_code


def _profile_at_a_version(client: TestClient, user: ApiUser) -> int:
    client.patch("/v1/me", headers=user.headers, json={"display_name": "Ada"})
    version: int = client.get("/v1/me", headers=user.headers).json()["version"]
    return version


@pytest.mark.parametrize(
    "if_match",
    [
        'W/"v{v}"',  # a weak tag never passes a strong comparison
        '"v0{v}"',  # a tag this API never issued
        '"v{v}0"',
        "v{v}",  # unquoted
        '"V{v}"',
        '"v²"',  # a digit, but not an ASCII one
        '"v99999999999999999999999"',  # past any version
        '"v{v}" "v1"',  # garbled list
    ],
)
def test_an_if_match_that_does_not_name_the_current_tag_exactly_is_refused(
    client: TestClient, alice: ApiUser, if_match: str
) -> None:
    version = _profile_at_a_version(client, alice)

    response = client.patch(
        "/v1/me",
        headers=_octets(alice, If_Match=if_match.format(v=version)),
        json={"locale": "de"},
    )

    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "precondition_failed"
    assert client.get("/v1/me", headers=alice.headers).json()["locale"] is None


def test_an_if_match_list_passes_when_any_tag_is_current(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    alices = _profile_at_a_version(client, alice)
    bobs = _profile_at_a_version(client, bob)

    current_last = _patch_me(client, alice, If_Match=f'"v{alices + 40}", "v{alices}"')
    current_first = _patch_me(client, bob, If_Match=f'"v{bobs}", "v{bobs + 40}"')
    none_current = _patch_me(client, alice, If_Match=f'"v{alices}", "v{alices + 40}"')

    assert (current_last, current_first) == (200, 200)
    assert none_current == 412  # alice's PATCH above moved her profile on


def test_if_match_star_needs_the_record_and_if_none_match_star_needs_none(
    client: TestClient, alice: ApiUser
) -> None:
    url = "/v1/devices/install-0001"

    missing_with_match_star = client.put(url, headers=alice.with_headers(If_Match="*"), json=DEVICE)
    created = client.put(url, headers=alice.with_headers(If_None_Match="*"), json=DEVICE)
    overwrite = client.put(
        url, headers=alice.with_headers(If_None_Match="*"), json={**DEVICE, "app_version": "5.0.0"}
    )
    updated = client.put(
        url, headers=alice.with_headers(If_Match="*"), json={**DEVICE, "app_version": "5.1.0"}
    )

    assert missing_with_match_star.status_code == 412
    assert created.status_code == 201
    assert overwrite.status_code == 412
    assert overwrite.json()["detail"] == "the device already exists"
    assert updated.status_code == 200
    assert client.get(url, headers=alice.headers).json()["app_version"] == "5.1.0"


def test_if_none_match_on_a_write_refuses_when_the_named_version_is_current(
    client: TestClient, alice: ApiUser
) -> None:
    url = "/v1/devices/install-0002"
    etag = client.put(url, headers=alice.headers, json=DEVICE).headers["ETag"]

    same = client.put(url, headers=alice.with_headers(If_None_Match=f"W/{etag}"), json=DEVICE)
    other = client.put(url, headers=alice.with_headers(If_None_Match='"v12345"'), json=DEVICE)

    assert same.status_code == 412
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [
        ("{tag}", 304),
        ("W/{tag}", 304),  # weak comparison for GET
        ('"v12345", {tag}', 304),
        ("*", 304),
        ('"v12345"', 200),
        ('"v²"', 200),
        ("{tag}0", 200),
    ],
)
def test_a_conditional_get_compares_weakly_and_reads_lists(
    client: TestClient, alice: ApiUser, if_none_match: str, status: int
) -> None:
    tag = client.get("/v1/me", headers=alice.headers).headers["ETag"]

    response = client.get(
        "/v1/me", headers=_octets(alice, If_None_Match=if_none_match.format(tag=tag))
    )

    assert response.status_code == status
    assert response.headers["ETag"] == tag
