from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import ApiUser

APNS_TOKEN = "a" * 64
FCM_TOKEN = "fcm-token:" + "A1b2_C3d4-" * 15


def ios(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "platform": "ios",
        "app_version": "4.2.0",
        "push_token": APNS_TOKEN,
        "apns_environment": "production",
        "os_version": "18.1",
        "timezone": "Europe/Berlin",
    }
    body.update(overrides)
    return body


def test_registering_a_device_creates_it_then_updates_it(
    client: TestClient, alice: ApiUser
) -> None:
    created = client.put("/v1/devices/install-0001", headers=alice.headers, json=ios())
    updated = client.put(
        "/v1/devices/install-0001", headers=alice.headers, json=ios(app_version="4.3.0")
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json()["app_version"] == "4.3.0"
    assert updated.json()["version"] > created.json()["version"]
    listed = client.get("/v1/devices", headers=alice.headers).json()["items"]
    assert [d["installation_id"] for d in listed] == ["install-0001"]


def test_the_same_registration_twice_changes_nothing_but_last_seen(
    client: TestClient, alice: ApiUser
) -> None:
    first = client.put("/v1/devices/install-0002", headers=alice.headers, json=ios()).json()
    again = client.put("/v1/devices/install-0002", headers=alice.headers, json=ios())

    assert again.status_code == 200
    assert again.json()["version"] == first["version"]
    assert again.json()["last_seen_at"] >= first["last_seen_at"]


def test_an_android_device_with_an_fcm_token_is_accepted(
    client: TestClient, alice: ApiUser
) -> None:
    body = {"platform": "android", "app_version": "4.2.0", "push_token": FCM_TOKEN}

    response = client.put("/v1/devices/android-0001", headers=alice.headers, json=body)

    assert response.status_code == 201, response.text
    assert response.json()["apns_environment"] is None


def test_a_push_token_of_the_wrong_platform_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = client.put(
        "/v1/devices/install-0003", headers=alice.headers, json=ios(push_token=FCM_TOKEN)
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "push_token",
            "code": "invalid_push_token",
            "message": "an APNs device token is hexadecimal",
        }
    ]
    assert client.get("/v1/devices", headers=alice.headers).json()["items"] == []


def test_an_ios_token_without_its_apns_environment_is_refused(
    client: TestClient, alice: ApiUser
) -> None:
    response = client.put(
        "/v1/devices/install-0004", headers=alice.headers, json=ios(apns_environment=None)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "apns_environment"


def test_a_malformed_installation_id_is_refused(client: TestClient, alice: ApiUser) -> None:
    response = client.put("/v1/devices/bad%20id", headers=alice.headers, json=ios())

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "installation_id"


def test_deleting_a_device_removes_it_and_a_second_delete_is_404(
    client: TestClient, alice: ApiUser
) -> None:
    client.put("/v1/devices/install-0005", headers=alice.headers, json=ios())

    assert client.delete("/v1/devices/install-0005", headers=alice.headers).status_code == 204
    assert client.get("/v1/devices/install-0005", headers=alice.headers).status_code == 404
    assert client.delete("/v1/devices/install-0005", headers=alice.headers).status_code == 404


def test_a_deleted_device_can_register_again(client: TestClient, alice: ApiUser) -> None:
    client.put("/v1/devices/install-0006", headers=alice.headers, json=ios())
    client.delete("/v1/devices/install-0006", headers=alice.headers)

    again = client.put("/v1/devices/install-0006", headers=alice.headers, json=ios())

    assert again.status_code == 201
    assert again.json()["push_token"] == APNS_TOKEN


def test_a_stale_if_match_on_a_device_is_refused(client: TestClient, alice: ApiUser) -> None:
    etag = client.put("/v1/devices/install-0007", headers=alice.headers, json=ios()).headers["ETag"]
    client.put("/v1/devices/install-0007", headers=alice.headers, json=ios(os_version="18.2"))

    stale = client.delete("/v1/devices/install-0007", headers=alice.with_headers(If_Match=etag))

    assert stale.status_code == 412
    assert client.get("/v1/devices/install-0007", headers=alice.headers).status_code == 200


def test_a_user_cannot_see_or_change_another_users_device(
    client: TestClient, alice: ApiUser, bob: ApiUser
) -> None:
    client.put("/v1/devices/install-0008", headers=alice.headers, json=ios())

    assert client.get("/v1/devices/install-0008", headers=bob.headers).status_code == 404
    assert client.delete("/v1/devices/install-0008", headers=bob.headers).status_code == 404
    assert client.get("/v1/devices", headers=bob.headers).json()["items"] == []
    hijack = client.put("/v1/devices/install-0008", headers=bob.headers, json=ios(os_version="1.0"))
    assert hijack.status_code == 201  # bob registers his own installation record
    alices = client.get("/v1/devices/install-0008", headers=alice.headers).json()
    assert alices["os_version"] == "18.1"


def test_a_user_has_at_most_twenty_devices(client: TestClient, alice: ApiUser) -> None:
    for n in range(20):
        assert (
            client.put(
                f"/v1/devices/install-{n:04d}", headers=alice.headers, json=ios()
            ).status_code
            == 201
        )

    response = client.put("/v1/devices/install-9999", headers=alice.headers, json=ios())

    assert response.status_code == 422
    assert response.json()["code"] == "too_many_devices"
