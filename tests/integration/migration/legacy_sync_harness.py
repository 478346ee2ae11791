"""The legacy sync's tests share this: a legacy user, the push endpoint the sync serves, what
the user would see in Postgres, and changes built as `functions/` builds them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import psycopg
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from api.app import create_app
from app.bootstrap import Container
from datastore.postgres.consumer_log import PostgresFailedMessages
from datastore.postgres.engine import create_engine
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.blocklists.model import Blocklist
from domain.common import utc_now
from domain.migration import Entity, Phase
from functions.legacy_change import LegacyChange
from migration.firestore.layout import BLOCKLISTS, record_id
from migration.firestore.mirrors import FirestoreMirrorWriter
from migration.firestore.store import FirestoreStore
from migration.legacy_sync import LegacySync
from migration.legacy_sync.rules import Owed
from migration.mirroring import Mirroring
from migration.postgres.legacy_sync import PostgresLegacySyncUnitOfWork
from migration.postgres.pending_mirrors import PostgresMirrorQueue
from tests.integration.migration.old_app import encoded, legacy_sync_push
from tests.support.firestore_emulator import FirestoreEmulator

T = TypeVar("T")
Document = dict[str, Any]


@dataclass
class Legacy:
    """A legacy app's user, the sync's endpoint, and what the user would see in Postgres."""

    client: TestClient
    engine: Any
    phases: dict[Entity, Phase]
    database_url: str
    uid: str

    def push(self, change: LegacyChange, *, attempt: int | None = None) -> int:
        return self.push_data(encoded(change), change, attempt)

    def push_data(
        self, data: bytes, change: LegacyChange | None = None, attempt: int | None = None
    ) -> int:
        body = legacy_sync_push(data, change.attributes if change else {}, attempt=attempt)
        return self.client.post("/internal/pubsub/legacy-sync", json=body).status_code

    def read(self, read: Callable[[PostgresUnitOfWork], Awaitable[T]]) -> T:
        async def run() -> T:
            async with PostgresUnitOfWork(self.engine) as uow:
                return await read(uow)

        return self.client.portal.call(run)  # type: ignore[union-attr]

    def blocklist(self, doc_id: str) -> Blocklist | None:
        return self.read(lambda uow: uow.blocklists.get(self.uid, blocklist_id(self, doc_id)))

    def events(self) -> list[tuple[str, str, int, str | None]]:
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT type, subject_id, record_version, origin_installation_id"
                " FROM outbox_events WHERE user_id = %s ORDER BY id",
                (self.uid,),
            ).fetchall()
        return [(str(t), str(s), int(str(v)), o if o is None else str(o)) for t, s, v, o in rows]

    def sql(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


@contextmanager
def legacy_sync_app(
    container: Container, database_url: str, firestore_emulator: FirestoreEmulator
) -> Iterator[Legacy]:
    """The app's push endpoint with a legacy sync of its own (every entity in
    `dual_write_read_firestore`, mirrors to the emulator), and a new legacy user."""
    engine = create_engine(database_url, pool_size=2)
    phases = dict.fromkeys(Entity, Phase.DUAL_WRITE_READ_FIRESTORE)
    firestore = firestore_emulator.async_client()
    documents = FirestoreStore(firestore).documents
    mirroring = Mirroring(PostgresMirrorQueue(engine), FirestoreMirrorWriter(firestore, documents))
    sync = LegacySync(
        lambda: PostgresLegacySyncUnitOfWork(engine),
        lambda: phases,
        PostgresFailedMessages(engine),
        clock=utc_now,
        owed=Owed(firestore),
        mirroring=mirroring,
        max_attempts=10,
    )
    app = create_app(replace(container.services, legacy_sync=sync))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Legacy(client, engine, phases, database_url, f"L{uuid.uuid4().hex[:27]}")
        client.portal.call(engine.dispose)  # type: ignore[union-attr]


# --- building messages as functions/ does ---------------------------------------------------

_clock = [utc_now() - dt.timedelta(minutes=1)]


def tick() -> dt.datetime:
    """Firestore's update_time: per document it only grows."""
    _clock[0] += dt.timedelta(microseconds=1500)
    return _clock[0]


def change(
    uid: str,
    collection: str,
    doc_id: str,
    before: Document | None,
    after: Document | None,
    at: dt.datetime | None = None,
) -> LegacyChange:
    path = f"users/{uid}" if collection == "users" else f"users/{uid}/{collection}/{doc_id}"
    return LegacyChange.of(
        path=path,
        before=before,
        after=after,
        update_time=at or tick(),
        create_time=_clock[0] - dt.timedelta(seconds=30),
        event_id=str(uuid.uuid4()),
    )


def auto_id() -> str:
    return uuid.uuid4().hex[:20]


def blocklist_id(legacy: Legacy, doc_id: str) -> uuid.UUID:
    return record_id(legacy.uid, BLOCKLISTS, doc_id)


def blocklist_doc(name: str = "Social") -> Document:
    now = utc_now()
    return {
        "name": name,
        "apps": ["com.instagram.android"],
        "sites": ["reddit.com"],
        "categories": ["social"],
        "createdAt": now - dt.timedelta(seconds=20),
        "updatedAt": now - dt.timedelta(seconds=10),
    }


def counted(entity: Entity, outcome: str) -> float:
    labels = {"entity": entity.value, "outcome": outcome}
    return REGISTRY.get_sample_value("focus_migration_legacy_changes_total", labels) or 0.0
