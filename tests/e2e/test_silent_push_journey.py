"""The whole path of a silent push, as in production but on loopback:

an API write on the phone → outbox → relay → Pub/Sub emulator topic → push subscription →
/internal/pubsub/notifications → our APNs and FCM senders → fakes answering as Apple and Google.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psycopg
import pytest

from datastore.postgres.schema import upgrade
from events.codec import decode
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from tests.support.apns_rules import ApnsCredentials
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm
from tests.support.live_push import pubsub_stack_env
from tests.support.pubsub_emulator import PubSubEmulator
from tests.support.server import focus_serve

APP = {"X-Platform": "ios", "X-App-Version": "4.2.0"}


@dataclass
class Phones:
    """Alice's three installations and their push tokens."""

    http: httpx2.Client
    uid: str
    phone: str = secrets.token_hex(32)
    tablet: str = secrets.token_hex(32)
    pixel: str = f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(110)}"

    def register(self) -> None:
        devices = {
            "phone-0001": {"platform": "ios", "push_token": self.phone},
            "tablet-0001": {"platform": "ios", "push_token": self.tablet},
            "pixel-0001": {"platform": "android", "push_token": self.pixel},
        }
        for installation_id, device in devices.items():
            body = {**device, "app_version": "4.2.0"}
            if device["platform"] == "ios":
                body["apns_environment"] = "production"
            response = self.http.put(f"/v1/devices/{installation_id}", json=body)
            assert response.status_code in (200, 201), response.text


@dataclass
class Stack:
    url: str
    topic: str
    tap: str
    """A pull subscription of the topic: sees everything the relay published."""
    issuer: DevTokenIssuer


@pytest.fixture
def stack(
    scratch_database: str,
    pubsub_emulator: PubSubEmulator,
    apns_credentials: ApnsCredentials,
    fake_apns: FakeApns,
    tmp_path: Path,
) -> Iterator[tuple[Stack, FakeFcm]]:
    upgrade(scratch_database)  # its own database: no other test's relay or events
    topic = pubsub_emulator.create_topic()
    tap = pubsub_emulator.create_subscription(topic)
    with FakeFcm(pubsub_emulator.project_id) as fake_fcm:
        env = {
            "DATABASE_URL": scratch_database,
            **pubsub_stack_env(
                tmp_path, pubsub_emulator.project_id, topic, apns_credentials, fake_apns, fake_fcm
            ),
        }
        issuer = DevTokenIssuer(load_or_create_secret(tmp_path / "data" / "dev-token-secret"))
        with focus_serve(env, tmp_path) as url:
            pubsub_emulator.create_push_subscription(topic, f"{url}/internal/pubsub/notifications")
            yield Stack(url, topic, tap, issuer), fake_fcm


@pytest.fixture
def alice(stack: tuple[Stack, FakeFcm]) -> Iterator[Phones]:
    server, _ = stack
    uid = f"alice-{secrets.token_hex(6)}"
    headers = {**APP, "Authorization": f"Bearer {server.issuer.issue(uid)}"}
    with httpx2.Client(base_url=server.url, headers=headers, timeout=10) as http:
        phones = Phones(http, uid)
        phones.register()
        yield phones


def wait_for(what: Callable[[], int], at_least: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while (seen := what()) < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
    return seen


def test_a_change_on_the_phone_wakes_the_tablet_and_the_pixel_and_not_the_phone(
    stack: tuple[Stack, FakeFcm], alice: Phones, fake_apns: FakeApns
) -> None:
    _, fake_fcm = stack
    created = alice.http.post(
        "/v1/blocklists",
        headers={"X-Installation-Id": "phone-0001"},
        json={"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]},
    )
    assert created.status_code == 201
    version = created.json()["version"]

    def to_tablet() -> int:
        return len([r for r in fake_apns.requests if r.device_token == alice.tablet])

    def to_pixel() -> int:
        return len([r for r in fake_fcm.sends if r.body["message"]["token"] == alice.pixel])

    assert wait_for(to_tablet, 1) == 1, "no silent push reached the tablet"
    assert wait_for(to_pixel, 1) == 1, "no silent push reached the pixel"
    [tablet] = [r for r in fake_apns.requests if r.device_token == alice.tablet]
    assert tablet.headers["apns-push-type"] == "background"
    assert tablet.headers["apns-priority"] == "5"
    assert tablet.json() == {
        "aps": {"content-available": 1},
        "kind": "sync",
        "version": str(version),
    }
    [pixel] = [
        r.body["message"] for r in fake_fcm.sends if r.body["message"]["token"] == alice.pixel
    ]
    assert pixel["data"] == {"kind": "sync", "version": str(version)}
    assert "notification" not in pixel
    assert [r for r in fake_apns.requests if r.device_token == alice.phone] == []


def test_a_relay_that_publishes_an_event_twice_still_pushes_once(
    stack: tuple[Stack, FakeFcm],
    alice: Phones,
    fake_apns: FakeApns,
    pubsub_emulator: PubSubEmulator,
) -> None:
    server, _ = stack

    def to_tablet() -> int:
        return len([r for r in fake_apns.requests if r.device_token == alice.tablet])

    alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})
    assert wait_for(to_tablet, 1) == 1
    [published] = [
        m for m in pubsub_emulator.pull(server.tap, 4) if decode(m.data).type == "sync.requested"
    ]

    # What a relay killed between publishing and marking does: publish the event again.
    pubsub_emulator.publish(
        server.topic, published.data, published.ordering_key, **dict(published.attributes)
    )
    alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})

    assert wait_for(to_tablet, 2) == 2
    time.sleep(1.0)  # a late duplicate would arrive by now
    assert to_tablet() == 2  # the first request and the second, never the duplicate


def test_a_poison_message_is_kept_aside_and_the_users_next_events_still_flow(
    stack: tuple[Stack, FakeFcm],
    alice: Phones,
    fake_apns: FakeApns,
    pubsub_emulator: PubSubEmulator,
    scratch_database: str,
) -> None:
    server, _ = stack
    # Same ordering key as Alice's events: were it redelivered forever, hers would wait behind it.
    pubsub_emulator.publish(server.topic, b"\x00garbage", alice.uid, event_id="poison-1")
    alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})

    def to_tablet() -> int:
        return len([r for r in fake_apns.requests if r.device_token == alice.tablet])

    assert wait_for(to_tablet, 1) == 1
    with psycopg.connect(scratch_database) as conn:
        kept = conn.execute(
            "SELECT subscription, error FROM failed_messages WHERE event_id = 'poison-1'"
        ).fetchall()
    assert [(s, e.split(":")[0]) for s, e in kept] == [("notifications", "UndecodableEvent")]


def test_a_handler_that_fails_is_redelivered_by_pubsub_and_then_succeeds(
    stack: tuple[Stack, FakeFcm],
    alice: Phones,
    fake_apns: FakeApns,
    scratch_database: str,
    tmp_path: Path,
) -> None:
    def to_tablet() -> int:
        return len([r for r in fake_apns.requests if r.device_token == alice.tablet])

    with psycopg.connect(scratch_database, autocommit=True) as conn:
        # The budgets' table gone: every delivery of the event fails inside the handler.
        conn.execute("ALTER TABLE push_budgets RENAME TO push_budgets_away")
        try:
            alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})
            failures = wait_for(lambda: (tmp_path / "serve.log").read_text().count(
                "events.consumer.failed"
            ), 2)  # fmt: skip
            assert failures >= 2, "Pub/Sub did not deliver the failing event again"
            assert to_tablet() == 0
        finally:
            conn.execute("ALTER TABLE push_budgets_away RENAME TO push_budgets")

    assert wait_for(to_tablet, 1) == 1  # the next delivery succeeds
    time.sleep(1.0)
    assert to_tablet() == 1
