"""Push failures on the embedded default: `focus serve` with events, tasks and pushes all
in-process, APNs and FCM on loopback fakes.

- Dead tokens: one change of Alice's wakes her other devices; two of them answer 410
  `Unregistered` (APNs) and `UNREGISTERED` (FCM). Each dead token is pushed once and forgotten
  once, every healthy device is pushed once, and the outbox moves on: Bob's change reaches Bob.
- A handler that keeps failing for Alice's event holds back nobody: Bob's change reaches Bob,
  and Alice's event is recorded in `failed_messages` after FOCUS_CONSUMER_MAX_ATTEMPTS.
- A token registered by two accounts (Alice signed out without `DELETE /v1/devices`, Bob
  signed in on the same install) wakes only Bob's account: Alice's device lost it.
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
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from tests.support import fcm_errors
from tests.support.apns_rules import ApnsCredentials, Reply
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm
from tests.support.live_push import live_push_env
from tests.support.server import focus_serve

APP = {"X-Platform": "ios", "X-App-Version": "4.2.0"}
SETTLE_SECONDS = 10.0
"""Far below the statement timeout (15 s) that a forget waiting on its own consumer hit."""
REDELIVERY_SECONDS = 10.0
"""The first redelivery's wait (Pub/Sub's minimum backoff, events/redelivery.py)."""


def apns_token() -> str:
    return secrets.token_hex(32)


def fcm_token() -> str:
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(110)}"


@dataclass
class Server:
    url: str
    issuer: DevTokenIssuer
    database: str
    apns: FakeApns
    fcm: FakeFcm

    def pushes_to(self, token: str) -> int:
        by_apns = [r for r in self.apns.requests if r.device_token == token]
        by_fcm = [r for r in self.fcm.sends if r.body["message"]["token"] == token]
        return len(by_apns) + len(by_fcm)

    def pending_events(self) -> int:
        with psycopg.connect(self.database) as conn:
            row = conn.execute(
                "SELECT count(*) FROM outbox_events WHERE published_at IS NULL"
            ).fetchone()
        assert row is not None
        return int(row[0])

    def failed_messages(self, uid: str) -> list[tuple[str, str, int]]:
        with psycopg.connect(self.database) as conn:
            rows = conn.execute(
                "SELECT f.subscription, f.error, f.attempts FROM failed_messages f"
                " JOIN outbox_events e ON e.id::text = f.event_id WHERE e.user_id = %s",
                (uid,),
            ).fetchall()
        return [(str(a), str(b), int(c)) for a, b, c in rows]

    def fail_push_budgets_of(self, uid: str) -> None:
        """Every push decision for `uid` fails in the database: the handler raises."""
        with psycopg.connect(self.database, autocommit=True) as conn:
            conn.execute(
                "CREATE FUNCTION budgets_down() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN IF NEW.user_id = '{uid}' THEN"
                " RAISE EXCEPTION 'push budgets unavailable'; END IF; RETURN NEW; END $$"
            )
            conn.execute(
                "CREATE TRIGGER budgets_down BEFORE INSERT OR UPDATE ON push_budgets"
                " FOR EACH ROW EXECUTE FUNCTION budgets_down()"
            )

    def revocations(self, uid: str) -> list[str]:
        with psycopg.connect(self.database) as conn:
            rows = conn.execute(
                "SELECT subject_id FROM outbox_events"
                " WHERE user_id = %s AND type = 'device.push_token_revoked' ORDER BY subject_id",
                (uid,),
            ).fetchall()
        return [str(r[0]) for r in rows]


@dataclass
class User:
    uid: str
    http: httpx2.Client
    tokens: dict[str, str]
    """Installation id → push token."""

    def register(self) -> None:
        for installation_id, token in self.tokens.items():
            body: dict[str, str] = {"app_version": "4.2.0", "push_token": token}
            if len(token) == 64:
                body |= {"platform": "ios", "apns_environment": "production"}
            else:
                body |= {"platform": "android"}
            response = self.http.put(f"/v1/devices/{installation_id}", json=body)
            assert response.status_code in (200, 201), response.text

    def token_of(self, installation_id: str) -> str | None:
        response = self.http.get(f"/v1/devices/{installation_id}")
        assert response.status_code == 200, response.text
        token: str | None = response.json()["push_token"]
        return token


@pytest.fixture
def server(
    scratch_database: str,
    apns_credentials: ApnsCredentials,
    fake_apns: FakeApns,
    tmp_path: Path,
) -> Iterator[Server]:
    upgrade(scratch_database)
    with FakeFcm() as fake_fcm:
        env = {
            "DATABASE_URL": scratch_database,
            "FOCUS_ENV": "test",
            "FOCUS_AUTH": "dev",
            "FOCUS_DATA_DIR": str(tmp_path / "data"),
            "GOOGLE_CLOUD_PROJECT": fake_fcm.project_id,
            # The embedded default: events, relay, task queue and worker in this process.
            "FOCUS_EVENTS": "in_process",
            "FOCUS_RELAY_IN_PROCESS": "true",
            "FOCUS_TASKS": "postgres",
            "FOCUS_TASK_WORKER_IN_PROCESS": "true",
            **live_push_env(tmp_path, apns_credentials, fake_apns, fake_fcm),
            "FOCUS_CONSUMER_MAX_ATTEMPTS": "2",
        }
        issuer = DevTokenIssuer(load_or_create_secret(tmp_path / "data" / "dev-token-secret"))
        with focus_serve(env, tmp_path) as url:
            yield Server(url, issuer, scratch_database, fake_apns, fake_fcm)


@pytest.fixture
def signed_in(server: Server) -> Iterator[Callable[[str, dict[str, str]], User]]:
    clients: list[httpx2.Client] = []

    def sign_in(name: str, tokens: dict[str, str]) -> User:
        uid = f"{name}-{secrets.token_hex(6)}"
        headers = {**APP, "Authorization": f"Bearer {server.issuer.issue(uid)}"}
        http = httpx2.Client(base_url=server.url, headers=headers, timeout=20)
        clients.append(http)
        user = User(uid, http, tokens)
        user.register()
        return user

    yield sign_in
    for http in clients:
        http.close()


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)
    return done()


def test_dead_tokens_are_forgotten_once_the_others_pushed_once_and_the_outbox_moves_on(
    server: Server, signed_in: Callable[[str, dict[str, str]], User]
) -> None:
    alice = signed_in(
        "alice",
        {
            "phone-0001": apns_token(),
            "tablet-0001": apns_token(),
            "ipad-0001": apns_token(),
            "pixel-0001": fcm_token(),
            "galaxy-0001": fcm_token(),
        },
    )
    bob = signed_in("bob", {"phone-0002": apns_token(), "tablet-0002": apns_token()})
    dead = {"tablet-0001": alice.tokens["tablet-0001"], "pixel-0001": alice.tokens["pixel-0001"]}
    healthy = [alice.tokens["ipad-0001"], alice.tokens["galaxy-0001"]]
    server.apns.respond_to(dead["tablet-0001"], Reply(410, "Unregistered"))
    server.fcm.fail_token(dead["pixel-0001"], fcm_errors.UNREGISTERED)
    assert wait_until(lambda: server.pending_events() == 0, SETTLE_SECONDS)  # registrations

    changed = alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})
    assert changed.status_code in (200, 201, 202), changed.text

    def forgotten() -> bool:
        return all(alice.token_of(installation) is None for installation in dead)

    assert wait_until(forgotten, SETTLE_SECONDS), "the dead tokens are still registered"
    assert wait_until(lambda: server.pending_events() == 0, SETTLE_SECONDS), "outbox stuck"
    bob_changed = bob.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0002"})
    assert bob_changed.status_code in (200, 201, 202), bob_changed.text
    assert wait_until(lambda: server.pushes_to(bob.tokens["tablet-0002"]) == 1, SETTLE_SECONDS)

    time.sleep(1.0)  # a retried event would push again by now
    assert {token: server.pushes_to(token) for token in dead.values()} == {
        token: 1 for token in dead.values()
    }
    assert {token: server.pushes_to(token) for token in healthy} == {t: 1 for t in healthy}
    assert server.pushes_to(alice.tokens["phone-0001"]) == 0
    assert server.revocations(alice.uid) == sorted(dead)
    assert alice.token_of("ipad-0001") == alice.tokens["ipad-0001"]


def test_a_handler_failing_for_one_user_holds_back_no_one_and_is_recorded_in_the_end(
    server: Server, signed_in: Callable[[str, dict[str, str]], User]
) -> None:
    alice = signed_in("alice", {"phone-0001": apns_token(), "tablet-0001": apns_token()})
    bob = signed_in("bob", {"phone-0002": apns_token(), "tablet-0002": fcm_token()})
    assert wait_until(lambda: server.pending_events() == 0, SETTLE_SECONDS)  # registrations
    server.fail_push_budgets_of(alice.uid)

    alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})
    bob.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0002"})

    assert wait_until(lambda: server.pushes_to(bob.tokens["tablet-0002"]) == 1, SETTLE_SECONDS)
    assert wait_until(lambda: server.pending_events() == 0, SETTLE_SECONDS), "outbox stuck"
    recorded = wait_until(lambda: bool(server.failed_messages(alice.uid)), 3 * REDELIVERY_SECONDS)
    assert recorded, "the failing event was never given up on"
    [(subscription, error, attempts)] = server.failed_messages(alice.uid)
    assert (subscription, attempts) == ("notifications", 2)
    assert "push budgets unavailable" in error
    assert server.pushes_to(alice.tokens["tablet-0001"]) == 0


def test_a_token_another_account_registers_on_the_same_install_wakes_only_that_account(
    server: Server, signed_in: Callable[[str, dict[str, str]], User]
) -> None:
    shared = apns_token()
    alice = signed_in("alice", {"phone-0001": apns_token(), "tablet-0001": shared})
    bob = signed_in("bob", {"phone-0002": apns_token(), "tablet-0001": shared})
    assert wait_until(lambda: server.pending_events() == 0, SETTLE_SECONDS)

    assert alice.token_of("tablet-0001") is None
    assert server.revocations(alice.uid) == ["tablet-0001"]
    alice.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0001"})
    assert wait_until(lambda: server.pending_events() == 0, SETTLE_SECONDS)
    time.sleep(1.0)  # Alice's push would have gone out by now
    assert server.pushes_to(shared) == 0
    bob.http.post("/v1/sync/requests", headers={"X-Installation-Id": "phone-0002"})
    assert wait_until(lambda: server.pushes_to(shared) == 1, SETTLE_SECONDS)
