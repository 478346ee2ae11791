"""Backfill and verify read legacy documents by one rule: right after a clean backfill of a
drifted dataset, a full verify finds nothing to repair."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.cli import cli
from migration.legacy.seed import seed
from tests.support.firestore_emulator import FirestoreEmulator

USERS, SEED, DRIFT = 200, 11, 0.1
"""The size the divergence was found at: enough dangling and quarantined blocklists that every
drift kind meets a schedule and a session pointing at it."""


def test_a_full_verify_after_a_backfill_of_a_drifted_dataset_finds_no_divergence(
    database: str, firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", firestore_emulator.project_id)
    firestore_emulator.reset()
    seed(firestore_emulator.client(), USERS, seed=SEED, drift=DRIFT)
    runner = CliRunner()

    backfilled = runner.invoke(cli, ["migrate", "backfill"])
    verified = runner.invoke(cli, ["migrate", "verify", "--full", "--json", "--settle", "0.1"])

    assert backfilled.exit_code == 0, backfilled.output
    report = json.loads(verified.output)
    divergent = {
        entry["entity"]: {k: entry["found"][k] for k in ("missing", "extra", "different")}
        | {"fields": entry["found"]["fields"]}
        for entry in report
        if not entry["found"]["passed"]
    }
    assert divergent == {}
    assert verified.exit_code == 0
    sessions = next(e for e in report if e["entity"] == "focus_sessions")
    assert sessions["found"]["compared"] > USERS  # the sessions were there to compare
