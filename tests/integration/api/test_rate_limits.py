"""Rate limits as the apps see them: 429 problem+json with Retry-After, per user and per IP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx2
import pytest
from prometheus_client import REGISTRY

from app.settings import Settings
from identity.dev_issuer import DevTokenIssuer
from tests.conftest import ApiUser
from tests.support.configured_apps import AppFactory, configured_apps
from tests.support.processes import free_port
from tests.support.redis import require_redis

LIMITS = {
    "rate_limit_reads": "3/minute",
    "rate_limit_writes": "2/minute",
    "rate_limit_anonymous_reads": "1/minute",
    "rate_limit_anonymous_writes": "1/minute",
    "rate_limit_per_ip": "1000/minute",
}
BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def limited_app(settings: Settings, database_url: str) -> Iterator[AppFactory]:
    """Apps with tight limits (`LIMITS`, changed by keyword), stopped after the test."""
    with configured_apps(settings, database_url, **LIMITS) as make:
        yield make


def refused(response: httpx2.Response) -> int:
    """Checks a 429 is what the apps are promised; returns its Retry-After."""
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["status"] == 429
    assert response.headers["X-Request-Id"]
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    return int(retry_after)


def anonymous_user(dev_issuer: DevTokenIssuer) -> ApiUser:
    uid = f"anon-{uuid.uuid4().hex[:16]}"
    token = dev_issuer.issue(uid, anonymous=True)
    headers = {"Authorization": f"Bearer {token}", "X-Platform": "ios", "X-App-Version": "4.2.0"}
    return ApiUser(uid, token, headers)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_user_over_the_read_limit_gets_429_with_retry_after(
    limited_app: AppFactory, alice: ApiUser
) -> None:
    client = limited_app()
    before = metric("focus_rate_limit_refused_total", scope="user", kind="read")

    answers = [client.get("/v1/me", headers=alice.headers) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert 1 <= refused(answers[3]) <= 60
    assert metric("focus_rate_limit_refused_total", scope="user", kind="read") == before + 1


def test_reads_and_writes_have_budgets_of_their_own(
    limited_app: AppFactory, alice: ApiUser
) -> None:
    client = limited_app()
    writes = [client.post("/v1/blocklists", headers=alice.headers, json=BLOCKLIST) for _ in "abc"]

    assert [w.status_code for w in writes[:2]] == [201, 201]
    refused(writes[2])
    assert client.get("/v1/blocklists", headers=alice.headers).status_code == 200


def test_one_users_limit_leaves_another_user_alone(
    limited_app: AppFactory, alice: ApiUser, bob: ApiUser
) -> None:
    client = limited_app()
    for _ in range(3):
        client.get("/v1/me", headers=alice.headers)
    refused(client.get("/v1/me", headers=alice.headers))

    assert client.get("/v1/me", headers=bob.headers).status_code == 200


def test_anonymous_accounts_are_limited_harder(
    limited_app: AppFactory, dev_issuer: DevTokenIssuer, alice: ApiUser
) -> None:
    client = limited_app()
    guest = anonymous_user(dev_issuer)

    assert client.get("/v1/me", headers=guest.headers).status_code == 200
    refused(client.get("/v1/me", headers=guest.headers))
    assert [client.get("/v1/me", headers=alice.headers).status_code for _ in "ab"] == [200, 200]


def test_replays_of_an_idempotent_post_count_too(limited_app: AppFactory, alice: ApiUser) -> None:
    """The limit applies before idempotency: retrying one key forever is no way around it."""
    client = limited_app()
    headers = alice.with_headers(Idempotency_Key="same-key")

    first = client.post("/v1/blocklists", headers=headers, json=BLOCKLIST)
    replay = client.post("/v1/blocklists", headers=headers, json=BLOCKLIST)

    assert first.status_code == replay.status_code == 201
    refused(client.post("/v1/blocklists", headers=headers, json=BLOCKLIST))


def test_many_users_from_one_address_hit_the_per_ip_limit(
    limited_app: AppFactory, make_user: Callable[[], ApiUser]
) -> None:
    client = limited_app(rate_limit_per_ip="3/minute")
    users = [make_user() for _ in range(4)]
    before = metric("focus_rate_limit_refused_total", scope="ip", kind="read")

    answers = [client.get("/v1/me", headers=user.headers) for user in users]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    refused(answers[3])
    assert metric("focus_rate_limit_refused_total", scope="ip", kind="read") == before + 1


def test_a_request_without_a_token_counts_against_its_address(limited_app: AppFactory) -> None:
    client = limited_app(rate_limit_per_ip="2/minute")

    answers = [client.get("/v1/me") for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [401, 401]
    refused(answers[2])


def test_the_address_is_the_one_our_proxy_saw_not_one_the_client_wrote(
    limited_app: AppFactory, make_user: Callable[[], ApiUser]
) -> None:
    """Behind one proxy (X-Forwarded-For: <client's own entries>, <address the proxy saw>)."""
    client = limited_app(rate_limit_per_ip="2/minute", client_ip_proxy_hops=1)

    def call(forwarded: str) -> int:
        headers = make_user().with_headers(X_Forwarded_For=forwarded)
        return client.get("/v1/me", headers=headers).status_code

    spoofed = [call(f"10.0.0.{n}, 203.0.113.7") for n in range(3)]
    other_client = call("203.0.113.8")

    assert spoofed == [200, 200, 429]
    assert other_client == 200


def test_health_checks_and_internal_calls_are_not_limited(limited_app: AppFactory) -> None:
    client = limited_app(rate_limit_per_ip="1/minute")

    assert {client.get("/healthz").status_code for _ in range(5)} == {200}


def test_instances_sharing_redis_share_the_limit(
    limited_app: AppFactory, redis_url: str, alice: ApiUser
) -> None:
    one, two = limited_app(rate_limit_storage=redis_url), limited_app(rate_limit_storage=redis_url)

    assert one.get("/v1/me", headers=alice.headers).status_code == 200
    assert two.get("/v1/me", headers=alice.headers).status_code == 200
    assert one.get("/v1/me", headers=alice.headers).status_code == 200
    retry_after = refused(two.get("/v1/me", headers=alice.headers))

    assert 1 <= retry_after <= 60


def test_when_redis_is_down_requests_are_served_and_limited_per_instance(
    limited_app: AppFactory, alice: ApiUser
) -> None:
    client = limited_app(rate_limit_storage=f"async+redis://127.0.0.1:{free_port()}/0")
    before = metric("focus_rate_limit_storage_errors_total")

    answers = [client.get("/v1/me", headers=alice.headers) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    refused(answers[3])
    assert metric("focus_rate_limit_storage_errors_total") > before


def test_limits_can_be_switched_off(limited_app: AppFactory, alice: ApiUser) -> None:
    client = limited_app(rate_limits=False, rate_limit_per_ip="1/minute")

    assert {client.get("/v1/me", headers=alice.headers).status_code for _ in range(5)} == {200}


def test_addresses_are_counted_per_instance_even_with_redis(
    limited_app: AppFactory, redis_url: str, make_user: Callable[[], ApiUser]
) -> None:
    # Cloud Armor counts addresses across instances at the edge; each instance counts its own.
    settings = {"rate_limit_storage": redis_url, "rate_limit_per_ip": "2/minute"}
    one, two = limited_app(**settings), limited_app(**settings)
    users = [make_user() for _ in range(5)]

    first = [one.get("/v1/me", headers=u.headers).status_code for u in users[:2]]
    second = [two.get("/v1/me", headers=u.headers).status_code for u in users[2:4]]

    assert first == second == [200, 200]
    refused(one.get("/v1/me", headers=users[4].headers))


def test_a_refusal_by_address_is_timed_as_refused_without_a_route_scan(
    limited_app: AppFactory, alice: ApiUser
) -> None:
    """A flood of refusals stays cheap to answer: no search of the route it was meant for."""
    client = limited_app(rate_limit_per_ip="1/minute")
    labels = {"method": "GET", "route": "refused", "status_class": "4xx"}
    before = metric("focus_http_request_duration_seconds_count", **labels)

    assert client.get("/v1/me", headers=alice.headers).status_code == 200
    refused(client.get(f"/v1/focus-sessions/{uuid.uuid4()}", headers=alice.headers))

    assert metric("focus_http_request_duration_seconds_count", **labels) == before + 1
