"""A record's version only grows in both stores, whoever writes it: the API, an old app
writing straight to Firestore, the repair loop retrying what an outage left pending.

An old app's edit reaches Postgres through the legacy sync at a new version, which goes back
into the document (`_v`, `_writer: backend`): Firestore and Postgres then serve the edit at the
same version, and a mirror of an older version still pending finds a newer document and
changes nothing. The app is built as production builds it with FOCUS_LEGACY_FIRESTORE; the
old app writes to the official Firestore emulator and its changes are pushed to the app as
`functions/` and Pub/Sub deliver them.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY

from domain.migration import Phase
from tests.conftest import ApiUser
from tests.integration.migration.dual_write_app import (
    DualWriteApp,
    create_blocklist,
    get_as_a_client_retries,
)
from tests.integration.migration.old_app import OldApp
from tests.support.clock import TestClock
from tests.support.firestore_emulator import FirestoreEmulator

ACK = 204


@pytest.fixture
def old_app(app: DualWriteApp) -> OldApp:
    return OldApp(app.client, app.firestore)


def path(user: ApiUser, blocklist: dict[str, Any]) -> str:
    return f"users/{user.uid}/blocklists/{blocklist['id']}"


def legacy_document(name: str) -> dict[str, Any]:
    """A blocklist as the Firebase app saves it: its own fields only, no `_v`."""
    return {"name": name, "apps": [], "sites": ["reddit.com"], "categories": []}


def postgres(app: DualWriteApp, blocklist: dict[str, Any]) -> tuple[str, int, bool]:
    """The blocklist's row: name, version, deleted."""
    with psycopg.connect(app.database_url) as conn:
        row = conn.execute(
            "SELECT name, version, deleted_at IS NOT NULL FROM blocklists WHERE id = %s",
            (blocklist["id"],),
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1]), bool(row[2])


def rename(app: DualWriteApp, user: ApiUser, blocklist: dict[str, Any], name: str) -> int:
    response = app.client.patch(
        f"/v1/blocklists/{blocklist['id']}", headers=user.headers, json={"name": name}
    )
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


def stale_mirror_pending(
    app: DualWriteApp, user: ApiUser, firestore_emulator: FirestoreEmulator
) -> tuple[dict[str, Any], int]:
    """The issue's steps: a rename while Firestore is down (its mirror stays pending), another
    once it is back (written at once). The blocklist, and the pending mirror's version."""
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)
    created = create_blocklist(app, user, "Created")
    app.drain()
    with firestore_emulator.outage():
        stale = rename(app, user, created, "While Firestore was down")
        app.drain()
    app.wait_until_firestore_answers()
    rename(app, user, created, "After it came back")
    app.drain()
    assert ("blocklists", stale) in app.pending(user.uid)
    return created, stale


def in_firestore(old_app: OldApp, at: str, *more: str) -> tuple[Any, ...]:
    """The document's name and `_v` (and the fields named in `more`)."""
    document = old_app.document(at)
    assert document is not None, f"no document at {at}"
    return tuple(document[name] for name in ("name", "_v", *more))


def synced(entity: str, outcome: str) -> float:
    labels = {"entity": entity, "outcome": outcome}
    return REGISTRY.get_sample_value("focus_migration_legacy_changes_total", labels) or 0.0


def test_a_stale_mirror_never_overwrites_an_old_apps_whole_document_set(
    app: DualWriteApp,
    alice: ApiUser,
    old_app: OldApp,
    firestore_emulator: FirestoreEmulator,
    clock: TestClock,
) -> None:
    created, _ = stale_mirror_pending(app, alice, firestore_emulator)

    # The old app saves the whole document (no `_v`); the sync gives it the next version.
    assert old_app.deliver(old_app.set(path(alice, created), legacy_document("Old app"))) == ACK
    name, version, deleted = postgres(app, created)
    assert (name, deleted) == ("Old app", False)
    assert in_firestore(old_app, path(alice, created), "_writer") == ("Old app", version, "backend")

    app.repair_until_done(alice.uid, clock)  # the stale mirror is retried, and is stale

    assert in_firestore(old_app, path(alice, created)) == ("Old app", version)
    assert postgres(app, created) == ("Old app", version, False)


def test_mirrors_owed_at_once_apply_in_version_order_over_an_old_apps_set(
    app: DualWriteApp,
    alice: ApiUser,
    old_app: OldApp,
    firestore_emulator: FirestoreEmulator,
    clock: TestClock,
) -> None:
    """The API's mirror and the old app's version both pending (Firestore went down right
    after the old app's write): the repair writes the older first, the newer over it."""
    created, stale = stale_mirror_pending(app, alice, firestore_emulator)
    change = old_app.set(path(alice, created), legacy_document("Old app"))
    with firestore_emulator.outage():
        assert old_app.deliver(change) == ACK  # Postgres has it; its mirror waits
    app.wait_until_firestore_answers()
    name, version, _ = postgres(app, created)
    assert name == "Old app"
    assert [v for e, v in app.pending(alice.uid) if e == "blocklists"] == [stale, version]

    app.repair_until_done(alice.uid, clock)

    assert in_firestore(old_app, path(alice, created)) == ("Old app", version)


def test_our_late_mirror_reported_by_the_trigger_is_not_an_old_apps_edit(
    app: DualWriteApp, alice: ApiUser, old_app: OldApp, firestore_emulator: FirestoreEmulator
) -> None:
    """The trigger reports the backend's writes too. A mirror older than Postgres's record
    that landed on an old app's `set` is no edit to apply: Firestore is owed the record."""
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)
    created = create_blocklist(app, alice, "Created")
    app.drain()
    legacy_set = old_app.set(path(alice, created), legacy_document("Old app"))
    with firestore_emulator.outage():
        assert old_app.deliver(legacy_set) == ACK
    app.wait_until_firestore_answers()
    _, version, _ = postgres(app, created)
    # An older mirror (the creation's, retried) lands over the old app's document.
    app.firestore.document(path(alice, created)).update(
        {"name": "Created", "_v": 1, "_writer": "backend"}
    )
    landed = old_app.change_of_backend_write(path(alice, created), legacy_set.after)
    before = synced("blocklists", "stale_mirror")

    assert old_app.deliver(landed) == ACK

    assert synced("blocklists", "stale_mirror") == before + 1
    assert postgres(app, created) == ("Old app", version, False)
    assert in_firestore(old_app, path(alice, created)) == ("Old app", version)


def test_an_old_apps_edit_is_read_back_at_its_new_version_from_both_stores(
    app: DualWriteApp, alice: ApiUser, old_app: OldApp
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)
    created = create_blocklist(app, alice, "Created")
    url = f"/v1/blocklists/{created['id']}"

    assert old_app.deliver(old_app.update(path(alice, created), {"name": "Old app"})) == ACK

    _, version, _ = postgres(app, created)
    assert version > created["version"]
    read = get_as_a_client_retries(app, url, alice)  # Firestore serves reads in this phase
    assert (read.json()["name"], read.json()["version"]) == ("Old app", version)
    changes = app.client.get("/v1/sync", headers=alice.headers).json()["changes"]
    assert [c["version"] for c in changes if c["id"] == created["id"]] == [version]
    unchanged = app.client.get(
        url, headers={**alice.headers, "If-None-Match": read.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    stale = app.client.get(
        url, headers={**alice.headers, "If-None-Match": f'"{created["version"]}"'}
    )
    assert stale.status_code == 200


def test_a_document_an_old_app_removed_stays_removed(
    app: DualWriteApp,
    alice: ApiUser,
    old_app: OldApp,
    firestore_emulator: FirestoreEmulator,
    clock: TestClock,
) -> None:
    """A deletion in Postgres, and no older mirror brings the document back (old apps do not
    know tombstones: the document is not written again as one)."""
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)
    with firestore_emulator.outage():
        created = create_blocklist(app, alice, "Created")
        app.drain()
    app.wait_until_firestore_answers()
    renamed = rename(app, alice, created, "Renamed")  # written at once; the creation still owed
    app.drain()
    assert ("blocklists", created["version"]) in app.pending(alice.uid)

    assert old_app.deliver(old_app.delete(path(alice, created))) == ACK

    _, version, deleted = postgres(app, created)
    assert deleted
    assert version > renamed
    app.repair_until_done(alice.uid, clock)
    assert old_app.document(path(alice, created)) is None
