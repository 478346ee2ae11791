"""The app as production builds it with FOCUS_LEGACY_FIRESTORE, for the migration's tests:
phases from the real phase table, the official Firestore emulator, real PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from google.cloud import firestore
from starlette.testclient import TestClient

from app.bootstrap import Container, build, build_app
from app.settings import Settings
from domain.common import utc_now
from domain.migration import Entity, Phase
from migration.postgres.migration_phases import CHANNEL
from tests.conftest import ApiUser
from tests.support.clock import TestClock
from tests.support.firestore_emulator import PROJECT_ID, FirestoreEmulator


@dataclass
class DualWriteApp:
    client: TestClient
    container: Container
    database_url: str
    firestore: firestore.Client

    def set_phase(self, phase: Phase, *entities: Entity) -> None:
        """Every entity (or those named) in `phase`, seen by the app before this returns."""
        chosen = entities or tuple(Entity)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            for entity in chosen:
                conn.execute(
                    "INSERT INTO migration_phases (entity, phase, changed_at, changed_by)"
                    " VALUES (%s, %s, now(), 'test') ON CONFLICT (entity)"
                    " DO UPDATE SET phase = excluded.phase",
                    (entity.value, phase.value),
                )
            conn.execute(f"NOTIFY {CHANNEL}")
        self.wait_for_phase(phase, *chosen)

    def wait_for_phase(self, phase: Phase, *entities: Entity) -> None:
        """Until the app's phase reader has every entity (or those named) in `phase`."""
        chosen = entities or tuple(Entity)
        assert self.container.migration is not None
        reader = self.container.migration.phases
        deadline = time.monotonic() + 10
        while any(reader.snapshot()[e] is not phase for e in chosen):
            assert time.monotonic() < deadline, "the app did not see the phase change"
            time.sleep(0.05)

    def repair(self) -> int:
        assert self.container.migration is not None
        mirroring = self.container.migration.mirroring
        portal = self.client.portal
        assert portal is not None
        return portal.call(mirroring.repair_once)

    def repair_until_done(self, uid: str, clock: TestClock) -> None:
        """Runs the repair loop's passes (time moving on) until nothing of `uid` is pending."""
        deadline = time.monotonic() + 60
        while self.pending(uid):
            assert time.monotonic() < deadline, f"still pending: {self.pending(uid)}"
            clock.advance(timedelta(minutes=10))  # past the grace and any backoff
            self.repair()
            time.sleep(0.5)

    def wait_until_firestore_answers(self) -> None:
        """Until the app's own Firestore client reaches the emulator again (it reconnects
        with backoff after an outage)."""
        assert self.container.migration is not None
        users = self.container.migration.unit_of_work.firestore.users
        portal = self.client.portal
        assert portal is not None
        deadline = time.monotonic() + 60
        while True:
            try:
                portal.call(users.get, "nobody")
                return
            except Exception:
                assert time.monotonic() < deadline, "the app's Firestore client never came back"
                time.sleep(0.5)

    def drain(self) -> None:
        assert self.container.migration is not None
        portal = self.client.portal
        assert portal is not None
        portal.call(self.container.migration.mirroring.drain_background)
        portal.call(self.container.migration.unit_of_work.shadow.drain)

    def pending(self, uid: str) -> list[tuple[str, int]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT entity, version FROM pending_mirrors WHERE user_id = %s ORDER BY id",
                (uid,),
            ).fetchall()
        return [(entity, version) for entity, version in rows]

    def all_pending(self) -> int:
        with psycopg.connect(self.database_url) as conn:
            (count,) = conn.execute("SELECT count(*) FROM pending_mirrors").fetchone() or (0,)
        return int(count)

    def postgres_blocklists(self, uid: str) -> list[str]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT name FROM blocklists WHERE user_id = %s AND deleted_at IS NULL"
                " ORDER BY name",
                (uid,),
            ).fetchall()
        return [name for (name,) in rows]

    def postgres_blocklist_ids(self, uid: str) -> list[str]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT id FROM blocklists WHERE user_id = %s ORDER BY id", (uid,)
            ).fetchall()
        return [str(list_id) for (list_id,) in rows]

    def firestore_doc(self, uid: str, collection: str, doc_id: str) -> dict[str, Any] | None:
        snapshot = self.firestore.document(f"users/{uid}/{collection}/{doc_id}").get()
        return snapshot.to_dict()


@contextmanager
def dual_write_app(
    settings: Settings,
    database_url: str,
    clock: TestClock | None,
    emulator: FirestoreEmulator,
    **overrides: Any,
) -> Iterator[DualWriteApp]:
    """The app on `database_url` (migrated), serving until the block ends."""
    dual = settings.model_copy(
        update={
            "legacy_firestore": True,
            "firebase_project_id": PROJECT_ID,
            "shadow_read_rate": 1.0,
            "firestore_timeout_seconds": 1.5,
            "mirror_repair_in_process": False,
            **overrides,
        }
    )
    container = build(dual, database_url, clock=clock or utc_now)
    with TestClient(build_app(container), raise_server_exceptions=False) as client:
        app = DualWriteApp(client, container, database_url, emulator.client())
        # A new client's first call sets its channel up: on a busy machine that alone can
        # outlast the short timeout these tests use, so it is made before the test begins.
        app.wait_until_firestore_answers()
        yield app


BLOCKLIST = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}


def create_blocklist(app: DualWriteApp, user: ApiUser, name: str = "Social") -> dict[str, Any]:
    response = app.client.post(
        "/v1/blocklists", headers=user.headers, json={**BLOCKLIST, "name": name}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def get_as_a_client_retries(app: DualWriteApp, path: str, user: ApiUser) -> Any:
    """GET, retried after each 503's Retry-After as the apps do (a client library reconnects to
    a Firestore that came back within seconds, not at once)."""
    deadline = time.monotonic() + 60
    while True:
        response = app.client.get(path, headers=user.headers)
        if response.status_code != 503 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return response
        time.sleep(float(response.headers["Retry-After"]))
