"""One erasure across every store this product has, on real parts: Postgres, the legacy
Firestore (emulator), Firebase Auth (emulator) and the bucket. The account goes last: while
any other store still holds something, the identity needed to retry is there.

(Late Pub/Sub events and old apps writing to Firestore after erasure are refused by the
consumers and the legacy sync: tests/integration/events/test_event_consumer.py and
tests/integration/migration/test_legacy_sync_delivery.py.)"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import firebase_admin
import pytest
from firebase_admin import auth
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.files.local import LocalFileStore
from datastore.postgres.personal_data import PostgresPersonalData
from datastore.postgres.privacy_store import PostgresPrivacyStore
from domain.common import utc_now
from domain.privacy.model import RequestKind, RequestState
from domain.privacy.ports import PersonalData, PrivacyStore
from domain.privacy.steps import StepState
from domain.tasks import Task
from domain.user_data import DataStore, UserData
from identity.firebase_accounts import FirebaseAccounts
from migration.privacy import FirestorePersonalData
from privacy.exports import ExportArchives
from privacy.requests import PrivacyRequests, SubjectHasher
from privacy.runner import PrivacyRunner
from tests.support.firebase_emulator import PROJECT_ID, AuthEmulator
from tests.support.firestore_emulator import FirestoreEmulator

pytestmark = pytest.mark.anyio

SECRET = "Qwxz Personal Vbnm"
"""A string only this user's records hold: it must show up nowhere else."""


class Scheduled:
    async def schedule(self, task: Task) -> bool:
        return True


class Watched:
    """A store's part, recording what the other stores still held when the account went."""

    def __init__(self, real: PersonalData, others: dict[DataStore, PersonalData]) -> None:
        self.store = real.store
        self.real = real
        self.others = others
        self.held_when_erased: dict[str, int] = {}

    async def count(self, entry: UserData, uid: str) -> int:
        return await self.real.count(entry, uid)

    def read(self, entry: UserData, uid: str) -> AsyncIterator[dict[str, object]]:
        return self.real.read(entry, uid)  # type: ignore[return-value]

    async def erase(self, entry: UserData, uid: str) -> int:
        from domain.privacy.steps import entries_for

        for other in entries_for(RequestKind.ERASURE):
            if other.store in self.others and other.store is not self.store:
                self.held_when_erased[other.name] = await self.others[other.store].count(other, uid)
        return await self.real.erase(entry, uid)


@pytest.fixture
def account_app(auth_emulator: AuthEmulator) -> Iterator[str]:
    name = f"test-erasure-{secrets.token_hex(4)}"
    yield name
    firebase_admin.delete_app(firebase_admin.get_app(name))


async def test_an_erasure_empties_every_store_and_deletes_the_account_last(
    engine: AsyncEngine,
    firestore_emulator: FirestoreEmulator,
    auth_emulator: AuthEmulator,
    account_app: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    accounts = FirebaseAccounts(PROJECT_ID, app_name=account_app)
    app = firebase_admin.get_app(account_app)
    email = f"{secrets.token_hex(6)}@example.com"
    uid = auth.create_user(email=email, password="x" * 12, display_name=SECRET, app=app).uid
    legacy = firestore_emulator.client()
    legacy.document(f"users/{uid}").set({"displayName": SECRET})
    legacy.document(f"users/{uid}/blocklists/b1").set({"name": SECRET, "items": []})
    legacy.document(f"users/{uid}/notes/n1").set({"text": SECRET})  # outside the layout
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (uid, display_name, created_at, updated_at)"
                " VALUES (:uid, :name, now(), now())"
            ),
            {"uid": uid, "name": SECRET},
        )

    def store() -> PrivacyStore:
        return PostgresPrivacyStore(engine)

    hasher = SubjectHasher(b"k" * 32)
    files = LocalFileStore(tmp_path / "files", secret=b"s" * 32)
    requests = PrivacyRequests(store, Scheduled(), hasher, utc_now, files)
    client = firestore_emulator.async_client()
    data: dict[DataStore, PersonalData] = {
        DataStore.POSTGRES: PostgresPersonalData(engine),
        DataStore.FIRESTORE: FirestorePersonalData(client),
        DataStore.FILES: ExportArchives(files, store, hasher),
    }
    watched = Watched(accounts, data)
    data[DataStore.FIREBASE_AUTH] = watched
    runner = PrivacyRunner(
        store, data, files, Scheduled(), utc_now,
        optional=frozenset({DataStore.CLOUD_TASKS, DataStore.REDIS}),
        revoke_sessions=accounts.revoke_sessions,
    )  # fmt: skip
    exported = await requests.open_from_app(RequestKind.EXPORT, uid)
    await runner.run_all(exported.request.id)  # an archive in the bucket too

    erasure = await requests.open_from_app(RequestKind.ERASURE, uid)
    await runner.run_all(erasure.request.id)

    done = await requests.get(erasure.request.id)
    steps = await requests.steps(erasure.request.id)
    assert done.state is RequestState.COMPLETED
    assert {s.state for s in steps} == {StepState.DONE}
    assert steps[-2].name == "firebase_account"
    assert set(watched.held_when_erased.values()) == {0}  # everything else was gone first
    assert "firestore_users" in watched.held_when_erased
    with pytest.raises(auth.UserNotFoundError):
        auth.get_user(uid, app=app)
    assert not legacy.document(f"users/{uid}").get().exists
    assert list(legacy.collection(f"users/{uid}/notes").stream()) == []
    assert await files.list("privacy/") == [f"privacy/erased/{hasher(uid)}"]  # the mark only
    scan = steps[-1].detail or {}
    assert scan
    assert set(scan.values()) == {0}
    # No trace of the person where only ids may be: the audit trail, the logs, the metrics.
    async with store() as s:
        trail = await s.audit_trail()
    written = repr([(entry, prev, hash_) for entry, prev, hash_ in trail])
    for trace in (written, caplog.text, generate_latest(REGISTRY).decode()):
        assert SECRET not in trace
        assert uid not in trace
        assert email not in trace
    await client._firestore_api_internal.transport.close()  # type: ignore[union-attr]
