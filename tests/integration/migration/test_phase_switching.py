"""The whole migration under load: the app keeps writing while every entity moves from
`firestore_only` through backfill and verify to `dual_write_read_postgres`, steps back one
phase and forward again; in the end both stores hold the same data and no write the API
acknowledged is missing.

Operators' commands run as they would (`focus migrate phase|backfill|verify`) on a database of
this test's own (verify compares whole stores) and the official Firestore emulator, beside the
app built as production builds it with FOCUS_LEGACY_FIRESTORE.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings
from domain.migration import Entity, Phase
from identity.dev_issuer import DevTokenIssuer
from migration.legacy.seed import seed as write_dataset
from tests.integration.migration.dual_write_app import DualWriteApp, dual_write_app
from tests.support.firestore_emulator import FirestoreEmulator

WRITERS = 3
"""App users writing all the time (besides the legacy users the backfill copies)."""

pytestmark = pytest.mark.usefixtures("empty_firestore")


def focus(*args: str) -> str:
    result = CliRunner().invoke(cli, ["migrate", *args])
    assert result.exit_code == 0, f"focus migrate {' '.join(args)}:\n{result.output}"
    return result.output


@dataclass
class Writer:
    """Writes through the API until stopped, and remembers what the API acknowledged."""

    app: DualWriteApp
    headers: list[dict[str, str]]
    stop: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    idle: threading.Event = field(default_factory=threading.Event)
    acknowledged: list[dict[str, str]] = field(default_factory=list)
    """Per writer: blocklist id → name, as the last acknowledged write left it."""
    running: dict[int, str] = field(default_factory=dict)
    writes: int = 0
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.acknowledged = [{} for _ in self.headers]

    def run(self) -> None:
        rng = random.Random(7)
        while not self.stop.is_set():
            if self.paused.is_set():
                self.idle.set()
                time.sleep(0.02)
                continue
            self.idle.clear()
            who = rng.randrange(len(self.headers))
            try:
                self.one_write(who, rng)
            except AssertionError as failure:
                self.failures.append(str(failure))
                self.stop.set()
        self.idle.set()

    def one_write(self, who: int, rng: random.Random) -> None:
        client, headers, lists = self.app.client, self.headers[who], self.acknowledged[who]
        roll = rng.random()
        if roll < 0.35 or not lists:
            name = f"List {self.writes}"
            response = client.post(
                "/v1/blocklists",
                headers=headers,
                json={"name": name, "items": [{"kind": "web_domain", "value": "x.com"}]},
            )
            assert response.status_code == 201, response.text
            lists[response.json()["id"]] = name
        elif roll < 0.65:
            list_id = rng.choice(sorted(lists))
            name = f"Renamed {self.writes}"
            response = client.patch(
                f"/v1/blocklists/{list_id}", headers=headers, json={"name": name}
            )
            assert response.status_code == 200, response.text
            lists[list_id] = name
        elif roll < 0.8:
            list_id = rng.choice(sorted(lists))
            response = client.delete(f"/v1/blocklists/{list_id}", headers=headers)
            assert response.status_code == 204, response.text
            del lists[list_id]
        elif who in self.running:
            response = client.post(
                f"/v1/focus-sessions/{self.running.pop(who)}/end",
                headers=headers,
                json={"outcome": "abandoned", "ended_at": datetime.now(UTC).isoformat()},
            )
            assert response.status_code == 200, response.text
        else:
            response = client.post(
                "/v1/focus-sessions", headers=headers, json={"planned_duration_minutes": 25}
            )
            assert response.status_code == 201, response.text
            self.running[who] = response.json()["id"]
        self.writes += 1

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """No write in flight inside the block (a verify compares a still picture)."""
        self.paused.set()
        assert self.idle.wait(30), "the writer did not pause"
        try:
            yield
        finally:
            self.paused.clear()


def advance(app: DualWriteApp, phase: Phase, *entities: Entity) -> None:
    for entity in entities or tuple(Entity):
        focus("phase", entity.value, phase.value, "--reason", "rehearsal")
    app.wait_for_phase(phase, *entities)


def wait_a_little(writer: Writer, writes: int) -> None:
    """Until the writer made `writes` more writes (phases are switched under load)."""
    target = writer.writes + writes
    deadline = time.monotonic() + 60
    while writer.writes < target and not writer.failures:
        assert time.monotonic() < deadline, "the writer stalled"
        time.sleep(0.05)


def test_phases_advance_under_load_and_verify_finds_no_difference(
    database: str,
    settings: Settings,
    firestore_emulator: FirestoreEmulator,
    dev_issuer: DevTokenIssuer,
) -> None:
    write_dataset(firestore_emulator.client(), 6, seed=11, drift=0.0)
    headers = [
        {
            "Authorization": f"Bearer {dev_issuer.issue(f'writer-{n}')}",
            "X-Platform": "ios",
            "X-App-Version": "4.2.0",
        }
        for n in range(WRITERS)
    ]
    with dual_write_app(settings, database, None, firestore_emulator) as app:
        writer = Writer(app, headers)
        thread = threading.Thread(target=writer.run, daemon=True)
        thread.start()
        try:
            wait_a_little(writer, 15)  # firestore_only: the API's records are in Firestore only
            advance(app, Phase.DUAL_WRITE_READ_FIRESTORE)
            wait_a_little(writer, 15)
            focus("backfill")  # while the app keeps writing
            wait_a_little(writer, 15)
            with writer.quiet():
                app.drain()
                focus("verify", "--full")
            advance(app, Phase.DUAL_WRITE_READ_POSTGRES)
            wait_a_little(writer, 20)
            advance(app, Phase.DUAL_WRITE_READ_FIRESTORE, Entity.BLOCKLISTS)  # one step back
            wait_a_little(writer, 15)
            advance(app, Phase.DUAL_WRITE_READ_POSTGRES, Entity.BLOCKLISTS)
            wait_a_little(writer, 15)
        finally:
            writer.stop.set()
            thread.join(30)
        assert writer.failures == []
        app.drain()
        assert app.all_pending() == 0

        report = {
            entry["entity"]: entry["found"]
            for entry in json.loads(focus("verify", "--full", "--json"))
        }

        # Every acknowledged write is what the API reads back (from Postgres now)…
        for who, expected in enumerate(writer.acknowledged):
            listed = app.client.get("/v1/blocklists?limit=100", headers=headers[who]).json()
            assert {item["id"]: item["name"] for item in listed["items"]} == expected
        # …and verify compared both stores whole and found them equal.
        assert set(report) == {entity.value for entity in Entity}
        for entity, found in report.items():
            divergent = {kind: found.get(kind, 0) for kind in ("missing", "extra", "different")}
            assert divergent == {"missing": 0, "extra": 0, "different": 0}, entity
            assert found["passed"], entity
        live_lists = sum(len(lists) for lists in writer.acknowledged)
        assert report["blocklists"]["compared"] >= live_lists > 0
        assert report["focus_sessions"]["compared"] > 0
        assert writer.writes >= 95
