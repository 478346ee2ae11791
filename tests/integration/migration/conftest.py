"""What the migration's tests share: a migrated database of their own, an empty Firestore,
the app as production builds it with FOCUS_LEGACY_FIRESTORE."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from app.bootstrap import Container
from app.settings import Settings
from datastore.postgres.schema import upgrade
from tests.integration.migration.dual_write_app import DualWriteApp, dual_write_app
from tests.integration.migration.legacy_sync_harness import Legacy, legacy_sync_app
from tests.support.clock import TestClock
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


@pytest.fixture
def app(
    settings: Settings,
    database_url: str,
    clock: TestClock,
    firestore_emulator: FirestoreEmulator,
) -> Iterator[DualWriteApp]:
    """The dual-write app on the session's database and an empty Firestore; the phases it
    was given are removed after the test."""
    firestore_emulator.reset()
    with dual_write_app(settings, database_url, clock, firestore_emulator) as app:
        yield app
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM migration_phases")


@pytest.fixture
def legacy(
    container: Container, database_url: str, firestore_emulator: FirestoreEmulator
) -> Iterator[Legacy]:
    with legacy_sync_app(container, database_url, firestore_emulator) as legacy:
        yield legacy
