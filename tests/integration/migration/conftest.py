"""What the migration's tests share: a migrated database of their own, an empty Firestore."""

from __future__ import annotations

import pytest

from datastore.postgres.migrate import upgrade
from tests.support.firestore_emulator import FirestoreEmulator


@pytest.fixture
def database(scratch_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database beside the session's one (commands compare whole stores), which
    `focus migrate …` run in-process finds through DATABASE_URL; the operator is `oncall`."""
    upgrade(scratch_database)
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    monkeypatch.setenv("USER", "oncall")
    return scratch_database


@pytest.fixture
def empty_firestore(firestore_emulator: FirestoreEmulator) -> FirestoreEmulator:
    firestore_emulator.reset()
    return firestore_emulator
