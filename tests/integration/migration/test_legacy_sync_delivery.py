"""Legacy sync, continued: what is dropped on purpose, kept or retried, and changes written in
the Firestore emulator itself (the messages as `functions/` encodes them)."""

from __future__ import annotations

import datetime as dt
import uuid

from prometheus_client import REGISTRY

from domain.common import utc_now
from domain.migration import Entity, Phase
from functions.legacy_change import LegacyChange, Reference
from migration.firestore.layout import BLOCKLISTS, SCHEDULES, SESSIONS, record_id
from migration.legacy_sync import SUBSCRIPTION
from tests.integration.migration.legacy_sync_harness import (
    Legacy,
    auto_id,
    blocklist_doc,
    blocklist_id,
    change,
)
from tests.support.firestore_emulator import FirestoreEmulator

# --- dropped on purpose, kept, retried --------------------------------------------------------


def test_nothing_of_an_erased_user_is_written(legacy: Legacy) -> None:
    legacy.sql("INSERT INTO erased_users (uid, erased_at) VALUES (%s, now())", legacy.uid)

    assert legacy.push(change(legacy.uid, BLOCKLISTS, auto_id(), None, blocklist_doc())) == 204

    assert legacy.sql("SELECT 1 FROM users WHERE uid = %s", legacy.uid) == []
    assert legacy.sql("SELECT 1 FROM legacy_sync_positions WHERE user_id = %s", legacy.uid) == []


def test_a_change_of_an_entity_still_firestore_only_is_left_to_the_backfill(
    legacy: Legacy,
) -> None:
    legacy.phases[Entity.BLOCKLISTS] = Phase.FIRESTORE_ONLY
    doc_id = auto_id()

    assert legacy.push(change(legacy.uid, BLOCKLISTS, doc_id, None, blocklist_doc())) == 204

    assert legacy.sql("SELECT 1 FROM users WHERE uid = %s", legacy.uid) == []
    assert legacy.events() == []


def test_an_unmappable_document_is_acknowledged_kept_and_counted(legacy: Legacy) -> None:
    broken = {"startTime": "09:00", "endTime": "17:00", "blocklist": "x"}  # no days
    unmappable = change(legacy.uid, SCHEDULES, auto_id(), None, broken)
    labels = {"entity": "schedules", "reason": "missing_required"}
    before = REGISTRY.get_sample_value("focus_migration_legacy_unmappable_total", labels) or 0.0

    assert legacy.push(unmappable) == 204

    assert legacy.sql("SELECT 1 FROM schedules WHERE user_id = %s", legacy.uid) == []
    assert legacy.events() == []
    kept = legacy.sql(
        "SELECT error, data FROM failed_messages WHERE subscription = %s AND event_id = %s",
        SUBSCRIPTION,
        unmappable.event_id,
    )
    assert len(kept) == 1
    assert kept[0][0] == "unmappable: missing_required (days)"
    assert b"09:00" not in bytes(kept[0][1])  # a pointer, not the document
    assert REGISTRY.get_sample_value("focus_migration_legacy_unmappable_total", labels) == (
        before + 1
    )


def test_a_message_that_is_not_a_legacy_change_is_acknowledged_and_kept(legacy: Legacy) -> None:
    before = counted_unknown("undecodable")

    assert legacy.push_data(b"\x00 not a change") == 204

    assert counted_unknown("undecodable") == before + 1


def counted_unknown(outcome: str) -> float:
    labels = {"entity": "unknown", "outcome": outcome}
    return REGISTRY.get_sample_value("focus_migration_legacy_changes_total", labels) or 0.0


def test_a_transient_failure_is_retried_and_the_redelivery_applies_it_once(
    legacy: Legacy,
) -> None:
    created = change(legacy.uid, BLOCKLISTS, doc_id := auto_id(), None, blocklist_doc())
    legacy.sql("ALTER TABLE legacy_sync_positions RENAME TO legacy_sync_positions_away")
    try:
        assert legacy.push(created, attempt=1) == 503
    finally:
        legacy.sql("ALTER TABLE legacy_sync_positions_away RENAME TO legacy_sync_positions")

    assert legacy.blocklist(doc_id) is None  # nothing of the failed attempt stayed
    assert legacy.push(created, attempt=2) == 204
    assert legacy.push(created, attempt=3) == 204

    assert legacy.blocklist(doc_id) is not None
    assert [kind for kind, _, _, _ in legacy.events()] == ["blocklist.created"]


# --- real legacy writes -----------------------------------------------------------------------


def test_writes_made_in_firestore_reach_postgres(
    legacy: Legacy, firestore_emulator: FirestoreEmulator
) -> None:
    """As a legacy app writes (an auto-id, then a field `update`); the messages are built from
    the snapshots as functions/main.py builds them."""
    firestore = firestore_emulator.client()
    document = firestore.collection("users").document(legacy.uid).collection(BLOCKLISTS).document()
    document.set({"name": "Games", "apps": ["com.supercell.clashroyale"], "createdAt": utc_now()})
    created = document.get()
    document.update({"name": "Games and video", "sites": ["youtube.com"]})
    updated = document.get()

    for before, after in ((None, created), (created, updated)):
        message = LegacyChange.of(
            path=document.path,
            before=None if before is None else before.to_dict(),
            after=after.to_dict(),
            update_time=after.update_time,
            create_time=after.create_time,
            event_id=str(uuid.uuid4()),
        )
        assert legacy.push(message) == 204

    found = legacy.blocklist(document.id)
    assert found is not None
    assert found.name == "Games and video"
    assert [item.value for item in found.items] == ["com.supercell.clashroyale", "youtube.com"]
    assert [kind for kind, _, _, _ in legacy.events()] == ["blocklist.created", "blocklist.updated"]


def test_a_legacy_session_keeps_a_deleted_blocklist_and_drops_one_that_never_was(
    legacy: Legacy,
) -> None:
    # The backfill's and verify's rule: a link stands when Postgres has the blocklist, live or
    # deleted (history); a link to nothing is dropped.
    uid, gone_doc, never_doc = legacy.uid, auto_id(), auto_id()
    started = utc_now() - dt.timedelta(minutes=30)
    created = blocklist_doc()
    legacy.push(change(uid, BLOCKLISTS, gone_doc, None, created))
    legacy.push(change(uid, BLOCKLISTS, gone_doc, created, None))
    assert legacy.blocklist(gone_doc) is None  # deleted

    sessions = {}
    for doc in (gone_doc, never_doc):
        session_doc = auto_id()
        link = Reference(f"users/{uid}/blocklists/{doc}")
        running = {"startedAt": started, "plannedMinutes": 25, "status": "abandoned",
                   "endedAt": started + dt.timedelta(minutes=5), "blocklist": link}  # fmt: skip
        assert legacy.push(change(uid, SESSIONS, session_doc, None, running)) == 204
        session_id = record_id(uid, SESSIONS, session_doc)
        sessions[doc] = legacy.read(lambda uow, i=session_id: uow.focus_sessions.get(uid, i))

    kept, dropped = sessions[gone_doc], sessions[never_doc]
    assert kept is not None
    assert dropped is not None
    assert kept.blocklist_id == blocklist_id(legacy, gone_doc)
    assert dropped.blocklist_id is None
