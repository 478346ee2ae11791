"""An old app's Firestore write reaches the new API, and the new API's write does not come back.

The whole way as in production: a write in the Firestore emulator (as the old app makes it),
the Firestore event Eventarc would deliver (built from the stored documents) into the deployed
`functions/` entry point, which publishes to the Pub/Sub emulator's `legacy-changes` topic,
whose push subscription calls `focus serve` (FOCUS_LEGACY_FIRESTORE) at
/internal/pubsub/legacy-sync; the API then reads the change from Postgres.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest
from google.cloud import firestore

from datastore.postgres.schema import upgrade
from functions import main
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.firestore_events import (  # noqa: F401 (fixtures for this module)
    _default_firebase_app,
    _stop_publisher,
    deliver,
    event,
    raw_document,
)
from tests.support.pubsub_emulator import PubSubEmulator
from tests.support.server import focus_serve

APP = {"X-Platform": "ios", "X-App-Version": "4.2.0"}


class Journey:
    def __init__(self, url: str, database: str, headers: dict[str, str], uid: str) -> None:
        self.url = url
        self.database = database
        self.headers = headers
        self.uid = uid

    def blocklists(self) -> list[dict[str, Any]]:
        with httpx2.Client(base_url=self.url, headers=self.headers, timeout=10) as http:
            response = http.get("/v1/blocklists")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def position(self, path: str) -> str | None:
        with psycopg.connect(self.database) as conn:
            row = conn.execute(
                "SELECT update_time FROM legacy_sync_positions WHERE user_id = %s AND path = %s",
                (self.uid, path),
            ).fetchone()
        return None if row is None else str(row[0])

    def events(self) -> int:
        with psycopg.connect(self.database) as conn:
            (count,) = conn.execute(
                "SELECT count(*) FROM outbox_events WHERE user_id = %s", (self.uid,)
            ).fetchone() or (0,)
        return int(count)


@pytest.fixture
def journey(
    scratch_database: str,
    firestore_emulator: FirestoreEmulator,
    pubsub_emulator: PubSubEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Journey]:
    upgrade(scratch_database)
    firestore_emulator.reset()
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO migration_phases (entity, phase, changed_at, changed_by)"
            " VALUES ('blocklists', 'dual_write_read_postgres', now(), 'test')"
        )
    topic = pubsub_emulator.create_topic()
    monkeypatch.setenv("LEGACY_CHANGES_TOPIC", topic)  # where functions/ publishes
    monkeypatch.setenv("GCLOUD_PROJECT", pubsub_emulator.project_id)
    env = {
        "DATABASE_URL": scratch_database,
        "FOCUS_ENV": "test",
        "FOCUS_AUTH": "dev",
        "FOCUS_DATA_DIR": str(tmp_path / "data"),
        "GOOGLE_CLOUD_PROJECT": firestore_emulator.project_id,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
        "FOCUS_LEGACY_FIRESTORE": "true",
        "FOCUS_RELAY_IN_PROCESS": "true",
    }
    issuer = DevTokenIssuer(load_or_create_secret(tmp_path / "data" / "dev-token-secret"))
    uid = f"L{uuid.uuid4().hex[:27]}"
    headers = {**APP, "Authorization": f"Bearer {issuer.issue(uid)}"}
    with focus_serve(env, tmp_path) as url:
        pubsub_emulator.create_push_subscription(topic, f"{url}/internal/pubsub/legacy-sync")
        yield Journey(url, scratch_database, headers, uid)


def eventually(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def test_an_old_apps_edits_reach_the_api_and_the_apis_own_mirror_is_not_applied_again(
    journey: Journey, firestore_emulator: FirestoreEmulator
) -> None:
    client: firestore.Client = firestore_emulator.client()
    now = datetime.now(UTC)
    client.document(f"users/{journey.uid}").set({"timezone": "Europe/Paris", "createdAt": now})
    path = f"users/{journey.uid}/blocklists/k3JdQ9vLm2XrT8pWn4Ya"
    legacy = {
        "name": "Social",
        "apps": ["com.instagram.android"],
        "sites": ["reddit.com"],
        "createdAt": now - timedelta(seconds=5),
        "updatedAt": now - timedelta(seconds=5),
    }

    # The old app creates a blocklist, then renames it.
    client.document(path).set(legacy)
    created = raw_document(client, path)
    deliver(main.legacy_user_document_written, event(path, None, created))
    eventually(lambda: [b["name"] for b in journey.blocklists()] == ["Social"], "the create")
    client.document(path).update({"name": "Feeds", "updatedAt": datetime.now(UTC)})
    renamed = raw_document(client, path)
    rename = event(path, created, renamed, event_id="rename-1")
    deliver(main.legacy_user_document_written, rename)
    eventually(lambda: [b["name"] for b in journey.blocklists()] == ["Feeds"], "the rename")
    (blocklist,) = journey.blocklists()
    events = journey.events()

    # Eventarc delivers the rename again: nothing changes.
    deliver(main.legacy_user_document_written, rename)
    time.sleep(2)
    assert journey.blocklists() == [blocklist]
    assert journey.events() == events

    # The new API renames it; its mirror lands in Firestore and triggers the function too.
    with httpx2.Client(base_url=journey.url, headers=journey.headers, timeout=10) as http:
        response = http.patch(f"/v1/blocklists/{blocklist['id']}", json={"name": "Deep work"})
    assert response.status_code == 200, response.text
    version = response.json()["version"]
    eventually(lambda: (client.document(path).get().to_dict() or {}).get("_v") == version, "mirror")
    mirrored = raw_document(client, path)
    deliver(main.legacy_user_document_written, event(path, renamed, mirrored))
    relative = path.split("/", 2)[2]
    eventually(
        lambda: journey.position(relative) == _rfc3339(mirrored.update_time), "the mirror's turn"
    )
    (after,) = journey.blocklists()
    assert (after["name"], after["version"]) == ("Deep work", version)
    assert journey.events() == events + 1  # the API's own write, not a second one


def _rfc3339(value: Any) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{value.nanosecond:09d}Z"
