"""Mirrors applied out of order never bring a deleted record back in Firestore.

A record's creation and its deletion owe Firestore a mirror each; the repair loop, background
tasks and a restart may apply them in any order. Whatever the order, Firestore ends as
Postgres is: deleted, at the deletion's version.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

import pytest

from domain.migration import Entity, PendingMirror, Phase
from migration.firestore.mirrors import (
    MirrorOutcome,
    mirror_of_creation,
    mirror_of_delete,
    mirror_of_save,
)
from tests.conftest import ApiUser
from tests.integration.migration.dual_write_app import DualWriteApp
from tests.support import entities
from tests.support.clock import TestClock
from tests.support.concurrency import at_once


@pytest.fixture
def app(app: DualWriteApp) -> DualWriteApp:
    app.set_phase(Phase.DUAL_WRITE_READ_POSTGRES)
    return app


def _mirrors(app: DualWriteApp, uid: str) -> dict[str, PendingMirror]:
    assert app.container.migration is not None
    client = app.container.migration.unit_of_work.firestore.documents.client
    record = uuid.uuid4()
    created = entities.blocklist(uid, record, version=3)
    renamed = entities.blocklist(uid, record, version=4)
    return {
        "create": mirror_of_creation(Entity.BLOCKLISTS, created, client),
        "rename": mirror_of_save(Entity.BLOCKLISTS, renamed, client),
        "delete": mirror_of_delete(Entity.BLOCKLISTS, uid, str(record), 5, entities.AT),
    }


@pytest.mark.parametrize("order", list(itertools.permutations(["create", "rename", "delete"])))
def test_in_any_order_a_deleted_record_stays_deleted(
    app: DualWriteApp, alice: ApiUser, order: tuple[str, ...]
) -> None:
    assert app.container.migration is not None
    writer = app.container.migration.mirroring.writer
    portal = app.client.portal
    assert portal is not None
    mirrors = _mirrors(app, alice.uid)

    outcomes = [portal.call(writer.apply, mirrors[step]) for step in order]

    document = app.firestore_doc(alice.uid, "blocklists", mirrors["delete"].record_key)
    assert document is not None
    assert (document["_v"], document["deletedAt"] is not None) == (5, True)
    delete_at = order.index("delete")
    assert outcomes[delete_at] is MirrorOutcome.WRITTEN
    assert all(o is MirrorOutcome.STALE for o in outcomes[delete_at + 1 :])


PAIRS = 40


def test_records_created_and_deleted_at_the_same_instant_stay_deleted(
    app: DualWriteApp, alice: ApiUser, clock: TestClock
) -> None:
    """The race as users make it, with no fault: pairs of create-then-delete sent at once,
    each write's mirror applied by a background task of its own, in whatever order."""

    def create_then_delete(n: int) -> Callable[[], str]:
        def pair() -> str:
            created = app.client.post(
                "/v1/blocklists",
                headers=alice.headers,
                json={"name": f"List {n}", "items": [{"kind": "web_domain", "value": "x.com"}]},
            )
            assert created.status_code == 201, created.text
            record: str = created.json()["id"]
            deleted = app.client.delete(f"/v1/blocklists/{record}", headers=alice.headers)
            assert deleted.status_code == 204, deleted.text
            return record

        return pair

    records = at_once([create_then_delete(n) for n in range(PAIRS)], timeout=120)
    app.drain()
    app.repair_until_done(alice.uid, clock)

    assert app.postgres_blocklists(alice.uid) == []
    live = [
        record
        for record in records
        if (document := app.firestore_doc(alice.uid, "blocklists", record)) is not None
        and document.get("deletedAt") is None
    ]
    assert live == [], f"{len(live)} of {PAIRS} deleted records are live in Firestore"
