"""The migration's per-entity bindings: one for every entity, named as the registry names them,
migrated owners first, and keys that read back the same from records, documents and mirrors."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from datastore.postgres.tables import table_of
from domain.migration import Entity
from migration.entities import BINDINGS, ORDER
from migration.firestore.layout import collection_of, record_id
from migration.firestore.mapping.common import MappingContext
from migration.legacy_sync.records import KINDS
from migration.postgres.backfill import SPECS
from tests.support import entities

UID = "u" * 28
BLOCKLIST_ID = UUID("0195f0a0-0000-7000-8000-000000000001")
SCHEDULE_ID = UUID("0195f0a0-0000-7000-8000-000000000002")
SESSION_ID = UUID("0195f0a0-0000-7000-8000-000000000003")
DAY = dt.date(2026, 11, 23)
CLIENT = firestore.Client(
    project="demo-focus",
    credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
)

RECORDS: dict[Entity, tuple[Any, str, str]] = {
    Entity.USERS: (entities.user(UID), "", UID),
    Entity.DEVICES: (entities.device(UID), entities.INSTALLATION, entities.INSTALLATION),
    Entity.BLOCKLISTS: (
        entities.blocklist(UID, BLOCKLIST_ID),
        str(BLOCKLIST_ID),
        str(BLOCKLIST_ID),
    ),
    Entity.SCHEDULES: (
        entities.schedule(UID, SCHEDULE_ID, BLOCKLIST_ID),
        str(SCHEDULE_ID),
        str(SCHEDULE_ID),
    ),
    Entity.FOCUS_SESSIONS: (
        entities.session(UID, SESSION_ID, BLOCKLIST_ID),
        str(SESSION_ID),
        str(SESSION_ID),
    ),
    Entity.USAGE: (
        entities.usage_report(UID, DAY),
        f"2026-11-23/{entities.INSTALLATION}",
        f"2026-11-23_{entities.INSTALLATION}",
    ),
}
"""A record of each entity, its key within its user, and the id of the document it is in."""


def test_every_entity_has_one_binding_for_itself() -> None:
    assert set(BINDINGS) == set(Entity)
    assert all(binding.entity is entity for entity, binding in BINDINGS.items())


def test_every_consumer_of_the_bindings_covers_every_entity() -> None:
    assert set(SPECS) == set(Entity)
    assert {kind.entity for kind in KINDS.values()} == set(Entity)


@pytest.mark.parametrize("entity", list(Entity))
def test_a_binding_names_its_collection_and_table_as_the_registry_does(entity: Entity) -> None:
    binding = BINDINGS[entity]
    assert binding.collection == collection_of(entity)
    assert binding.table is table_of(entity)
    assert SPECS[entity].table is binding.table


@pytest.mark.parametrize("entity", list(Entity))
def test_a_binding_keeps_tombstones_exactly_where_its_table_has_them(entity: Entity) -> None:
    binding = BINDINGS[entity]
    assert binding.keeps_tombstones == ("deleted_at" in binding.table.c)


def test_owners_are_migrated_before_what_they_own() -> None:
    assert ORDER[0] is Entity.USERS
    assert sorted(ORDER) == sorted(Entity)
    for owned in (Entity.SCHEDULES, Entity.FOCUS_SESSIONS):
        assert ORDER.index(Entity.BLOCKLISTS) < ORDER.index(owned)


def test_only_schedules_and_sessions_need_the_user_to_be_mapped() -> None:
    needing = {entity for entity, binding in BINDINGS.items() if binding.needs_user}
    assert needing == {Entity.SCHEDULES, Entity.FOCUS_SESSIONS}


@pytest.mark.parametrize("entity", list(Entity))
def test_a_records_key_reads_back_from_its_document_and_its_mirror(entity: Entity) -> None:
    binding = BINDINGS[entity]
    record, key, doc_id = RECORDS[entity]
    assert binding.owner_of(record) == UID
    assert binding.key_of(record) == key
    assert binding.document_id(UID, key) == doc_id
    assert binding.key_of_document(UID, doc_id) == key


@pytest.mark.parametrize("entity", [Entity.BLOCKLISTS, Entity.SCHEDULES, Entity.FOCUS_SESSIONS])
def test_a_legacy_auto_id_is_keyed_by_the_uuid_it_maps_to(entity: Entity) -> None:
    binding = BINDINGS[entity]
    expected = str(record_id(UID, binding.collection, "a1B2c3D4e5F6g7H8i9J0"))
    assert binding.key_of_document(UID, "a1B2c3D4e5F6g7H8i9J0") == expected


def test_a_usage_document_with_an_invalid_id_keeps_its_id_as_key() -> None:
    assert BINDINGS[Entity.USAGE].key_of_document(UID, "not-a-day") == "not-a-day"


@pytest.mark.parametrize("entity", list(Entity))
def test_a_records_document_maps_back_to_the_record(entity: Entity) -> None:
    binding = BINDINGS[entity]
    record, key, doc_id = RECORDS[entity]
    document = binding.to_document(record, CLIENT)
    mapped = binding.from_document(
        UID,
        doc_id,
        document,
        create_time=record.created_at,
        update_time=record.updated_at,
        context=MappingContext(
            as_of=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
            user_timezone="Europe/Paris",
            blocklist_ids=frozenset({BLOCKLIST_ID}),
        ),
    )
    assert binding.key_of(mapped) == key
