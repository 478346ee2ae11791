"""Dual writes through the API: each phase writes and reads the stores it names, and a write
the API acknowledged reaches Firestore even when Firestore was down at the time.

The app is built as production builds it with FOCUS_LEGACY_FIRESTORE (phases from the real
phase table, the official Firestore emulator, real PostgreSQL); only the clock is the test's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY

from app.settings import Settings
from domain.migration import PendingMirror, Phase
from migration.firestore.mirrors import FirestoreMirrorWriter, MirrorOutcome
from tests.conftest import ApiUser
from tests.integration.migration.dual_write_app import (
    BLOCKLIST,
    DualWriteApp,
    create_blocklist,
    dual_write_app,
    get_as_a_client_retries,
)
from tests.support.clock import TestClock
from tests.support.firestore_emulator import FirestoreEmulator


def names(response_body: dict[str, Any]) -> list[str]:
    return sorted(item["name"] for item in response_body["items"])


def test_dual_write_read_firestore_writes_both_stores_and_reads_firestore(
    app: DualWriteApp, alice: ApiUser
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)

    created = create_blocklist(app, alice)

    document = app.firestore_doc(alice.uid, "blocklists", created["id"])
    assert document is not None
    assert document["name"] == "Social"
    assert document["_v"] == created["version"]
    assert document["_writer"] == "backend"
    assert app.postgres_blocklists(alice.uid) == ["Social"]
    assert app.pending(alice.uid) == []
    # Reads come from Firestore: a change made there (by an old app) is what the API shows.
    app.firestore.document(f"users/{alice.uid}/blocklists/{created['id']}").update(
        {"name": "Renamed in Firestore"}
    )
    listed = app.client.get("/v1/blocklists", headers=alice.headers)
    assert names(listed.json()) == ["Renamed in Firestore"]


def test_firestore_only_keeps_records_out_of_postgres(app: DualWriteApp, alice: ApiUser) -> None:
    app.set_phase(Phase.FIRESTORE_ONLY)

    created = create_blocklist(app, alice)

    assert app.postgres_blocklists(alice.uid) == []
    assert app.firestore_doc(alice.uid, "blocklists", created["id"]) is not None
    fetched = app.client.get(f"/v1/blocklists/{created['id']}", headers=alice.headers)
    assert fetched.status_code == 200
    assert fetched.json()["name"] == "Social"


def test_postgres_only_never_touches_firestore(app: DualWriteApp, alice: ApiUser) -> None:
    app.set_phase(Phase.POSTGRES_ONLY)

    created = create_blocklist(app, alice)
    app.drain()

    assert app.postgres_blocklists(alice.uid) == ["Social"]
    assert app.firestore_doc(alice.uid, "blocklists", created["id"]) is None
    assert app.pending(alice.uid) == []


def test_dual_write_read_postgres_mirrors_after_the_response(
    app: DualWriteApp, alice: ApiUser
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)

    created = create_blocklist(app, alice)
    app.drain()

    document = app.firestore_doc(alice.uid, "blocklists", created["id"])
    assert document is not None
    assert (document["name"], document["_v"]) == ("Social", created["version"])
    assert app.pending(alice.uid) == []


class FirestoreDiesOnTheNextMirror:
    """Stops the emulator at the moment the next mirror is about to be written: the write has
    committed in Postgres (the API will acknowledge it), Firestore goes down before it."""

    def __init__(self, writer: FirestoreMirrorWriter, emulator: FirestoreEmulator) -> None:
        self._writer = writer
        self._emulator = emulator
        self.armed = True

    async def apply(self, mirror: PendingMirror) -> MirrorOutcome:
        if self.armed:
            self.armed = False
            self._emulator.stop()
        return await self._writer.apply(mirror)


def test_a_write_acknowledged_as_firestore_goes_down_is_read_back_after_it(
    app: DualWriteApp, alice: ApiUser, firestore_emulator: FirestoreEmulator
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)
    create_blocklist(app, alice, "Before")
    assert app.container.migration is not None
    mirroring = app.container.migration.mirroring
    real_writer = mirroring.writer
    mirroring.writer = FirestoreDiesOnTheNextMirror(real_writer, firestore_emulator)  # type: ignore[assignment]
    try:
        during = create_blocklist(app, alice, "During")  # acknowledged: 201
        assert app.pending(alice.uid) == [("blocklists", during["version"])]
        # Firestore is this phase's read store: while it is down, reads are refused, not stale.
        unavailable = app.client.get("/v1/blocklists", headers=alice.headers)
        assert unavailable.status_code == 503
        assert unavailable.json()["code"] == "service_unavailable"
    finally:
        mirroring.writer = real_writer
        if not firestore_emulator.running:
            firestore_emulator.start()

    # The first read Firestore answers writes what it missed, then answers from it.
    listed = get_as_a_client_retries(app, "/v1/blocklists", alice)
    assert names(listed.json()) == ["Before", "During"]
    assert app.pending(alice.uid) == []
    document = app.firestore_doc(alice.uid, "blocklists", during["id"])
    assert document is not None
    assert (document["name"], document["_v"]) == ("During", during["version"])


def test_writes_during_an_outage_of_the_read_store_are_refused_whole(
    app: DualWriteApp, alice: ApiUser, firestore_emulator: FirestoreEmulator
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)

    with firestore_emulator.outage():
        # Creating checks the user's count in the read store: it cannot be decided now.
        response = app.client.post("/v1/blocklists", headers=alice.headers, json=BLOCKLIST)
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"

    # Only the user's first-call profile (committed before the write began) is owed.
    assert app.pending(alice.uid) == [("users", 0)]
    assert app.postgres_blocklists(alice.uid) == []


def test_a_process_killed_between_commit_and_mirror_loses_nothing(
    settings: Settings,
    database_url: str,
    clock: TestClock,
    firestore_emulator: FirestoreEmulator,
    alice: ApiUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    firestore_emulator.reset()
    with dual_write_app(settings, database_url, clock, firestore_emulator) as first:
        first.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)
        assert first.container.migration is not None
        mirroring = first.container.migration.mirroring

        async def killed(*args: object, **kwargs: object) -> bool:
            raise asyncio.CancelledError  # the process is gone before Firestore is written

        get_as_a_client_retries(first, "/v1/me", alice)  # the user's profile is mirrored
        monkeypatch.setattr(mirroring, "apply", killed)
        # The client sees the connection drop; the commit happened, so the write is durable.
        first.client.post("/v1/blocklists", headers=alice.headers, json=BLOCKLIST)
        owed = [entity for entity, _ in first.pending(alice.uid)]
        assert owed.count("blocklists") == 1, owed
    created_id = first.postgres_blocklist_ids(alice.uid)[0]
    assert first.firestore_doc(alice.uid, "blocklists", created_id) is None

    # The next process (any instance) writes it before it reads Firestore for the user.
    with dual_write_app(settings, database_url, clock, firestore_emulator) as second:
        second.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)
        listed = get_as_a_client_retries(second, "/v1/blocklists", alice)
        assert [item["id"] for item in listed.json()["items"]] == [created_id]
        assert second.pending(alice.uid) == []
        assert second.firestore_doc(alice.uid, "blocklists", created_id) is not None
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM migration_phases")


def test_the_repair_loop_writes_what_an_outage_left_pending(
    app: DualWriteApp, alice: ApiUser, firestore_emulator: FirestoreEmulator, clock: TestClock
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)

    with firestore_emulator.outage():
        created = [create_blocklist(app, alice, f"List {n}") for n in range(3)]
        app.drain()
        # Postgres serves reads in this phase: the API answers as if nothing happened.
        listed = app.client.get("/v1/blocklists", headers=alice.headers)
        assert names(listed.json()) == ["List 0", "List 1", "List 2"]
    assert [entity for entity, _ in app.pending(alice.uid)].count("blocklists") == 3

    app.repair_until_done(alice.uid, clock)

    for blocklist in created:
        document = app.firestore_doc(alice.uid, "blocklists", blocklist["id"])
        assert document is not None
        assert (document["name"], document["_v"]) == (blocklist["name"], blocklist["version"])


def test_a_late_mirror_never_overwrites_a_newer_document(
    app: DualWriteApp, alice: ApiUser, firestore_emulator: FirestoreEmulator, clock: TestClock
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)
    with firestore_emulator.outage():
        created = create_blocklist(app, alice, "Old name")
        app.drain()
    # Firestore is back; a newer write is mirrored at once, the old one is still pending.
    app.wait_until_firestore_answers()
    renamed = app.client.patch(
        f"/v1/blocklists/{created['id']}", headers=alice.headers, json={"name": "New name"}
    )
    assert renamed.status_code == 200, renamed.text
    app.drain()
    assert ("blocklists", created["version"]) in app.pending(alice.uid)
    assert ("blocklists", renamed.json()["version"]) not in app.pending(alice.uid)

    app.repair_until_done(alice.uid, clock)

    document = app.firestore_doc(alice.uid, "blocklists", created["id"])
    assert document is not None
    assert (document["name"], document["_v"]) == ("New name", renamed.json()["version"])
    assert app.pending(alice.uid) == []


def shadow_count(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "focus_migration_shadow_reads_total", {"entity": "blocklists", "outcome": outcome}
    )
    return value or 0.0


def test_shadow_reads_report_field_names_and_never_change_the_answer(
    app: DualWriteApp, alice: ApiUser, caplog: pytest.LogCaptureFixture
) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)
    created = create_blocklist(app, alice, "Deep work")
    app.drain()
    matches = shadow_count("match")
    app.client.get(f"/v1/blocklists/{created['id']}", headers=alice.headers)
    app.drain()  # shadow reads run after the response
    assert shadow_count("match") == matches + 1

    app.firestore.document(f"users/{alice.uid}/blocklists/{created['id']}").update(
        {"name": "Secret diary"}
    )
    mismatches = shadow_count("mismatch")
    with caplog.at_level(logging.WARNING, logger="migration.shadow"):
        fetched = app.client.get(f"/v1/blocklists/{created['id']}", headers=alice.headers)
        app.drain()

    assert fetched.json()["name"] == "Deep work"
    assert shadow_count("mismatch") == mismatches + 1
    mismatch = next(r for r in caplog.records if r.getMessage() == "migration.shadow.mismatch")
    assert mismatch.__dict__["fields"] == ["name"]
    assert "Secret diary" not in caplog.text
    assert "Deep work" not in caplog.text


def test_a_failed_write_leaves_no_mirror(app: DualWriteApp, alice: ApiUser) -> None:
    app.set_phase(Phase.DUAL_WRITE_READ_FIRESTORE)

    response = app.client.post(
        "/v1/blocklists", headers=alice.headers, json={"name": "", "items": []}
    )

    assert response.status_code == 422
    assert app.pending(alice.uid) == []
    assert app.postgres_blocklists(alice.uid) == []


def test_focus_sessions_start_and_end_in_every_dual_phase(
    app: DualWriteApp, make_user: Callable[[], ApiUser]
) -> None:
    for phase in (Phase.DUAL_WRITE_READ_FIRESTORE, Phase.DUAL_WRITE_READ_POSTGRES):
        app.set_phase(phase)
        user = make_user()
        started = app.client.post(
            "/v1/focus-sessions",
            headers=user.headers,
            json={"planned_duration_minutes": 25},
        )
        assert started.status_code == 201, (phase, started.text)
        session = started.json()
        app.drain()
        document = app.firestore_doc(user.uid, "sessions", session["id"])
        assert document is not None, phase
        assert document["_v"] == session["version"]
        fetched = app.client.get(f"/v1/focus-sessions/{session['id']}", headers=user.headers)
        assert fetched.status_code == 200, (phase, fetched.text)
        assert fetched.json()["id"] == session["id"]
