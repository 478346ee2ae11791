"""Entities → documents → entities: what the legacy layout holds, and what it cannot."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from domain.blocklists.model import BlockItem, ItemKind
from domain.devices.model import Platform
from migration.firestore.mapping import blocklists, devices, focus_sessions, schedules, usage, users
from migration.firestore.mapping.common import MappingContext
from tests.support import entities
from tests.unit.test_firestore_mapping import AS_OF, CLIENT, CREATED, UID, UPDATED


def round_trip(module: Any, entity: Any, doc_id: str, *extra: Any) -> Any:
    return module.from_document(
        UID,
        doc_id,
        module.to_document(entity, *extra),
        create_time=CREATED,
        update_time=UPDATED,
        context=MappingContext(as_of=AS_OF + dt.timedelta(days=30)),
    )


BLOCKLIST_ID = UUID("0195f0a0-0000-7000-8000-000000000001")
SCHEDULE_ID = UUID("0195f0a0-0000-7000-8000-000000000002")
SESSION_ID = UUID("0195f0a0-0000-7000-8000-000000000003")


@pytest.mark.parametrize(
    ("module", "entity", "doc_id", "extra"),
    [
        (users, entities.user(UID), UID, ()),
        (devices, entities.device(UID), entities.INSTALLATION, ()),
        (blocklists, entities.blocklist(UID, BLOCKLIST_ID), str(BLOCKLIST_ID), ()),
        (
            schedules,
            entities.schedule(UID, SCHEDULE_ID, BLOCKLIST_ID),
            str(SCHEDULE_ID),
            (CLIENT,),
        ),
        (
            focus_sessions,
            entities.session(UID, SESSION_ID, BLOCKLIST_ID),
            str(SESSION_ID),
            (CLIENT,),
        ),
        (
            focus_sessions,
            entities.session(UID, SESSION_ID, None, running=True),
            str(SESSION_ID),
            (CLIENT,),
        ),
        (
            usage,
            entities.usage_report(UID, dt.date(2025, 11, 3)),
            "2025-11-03_" + entities.INSTALLATION,
            (),
        ),
    ],
)
def test_every_entity_round_trips_through_its_document(
    module: Any, entity: Any, doc_id: str, extra: tuple[Any, ...]
) -> None:
    document = module.to_document(entity, *extra)
    assert (document["_v"], document["_writer"]) == (entity.version, "backend")
    assert round_trip(module, entity, doc_id, *extra) == entity


def test_blocklist_items_come_back_grouped_apps_sites_categories() -> None:
    mixed = replace(
        entities.blocklist(UID, BLOCKLIST_ID),
        items=(
            BlockItem(ItemKind.CATEGORY, "games"),
            BlockItem(ItemKind.WEB_DOMAIN, "example.com"),
            BlockItem(ItemKind.ANDROID_PACKAGE, "com.example.app"),
        ),
    )
    back = round_trip(blocklists, mixed, str(BLOCKLIST_ID))
    assert [item.kind for item in back.items] == [
        ItemKind.ANDROID_PACKAGE,
        ItemKind.WEB_DOMAIN,
        ItemKind.CATEGORY,
    ]


def test_what_the_layout_cannot_hold_does_not_come_back() -> None:
    odd_session = replace(entities.session(UID, SESSION_ID, None), planned_duration_seconds=90)
    assert (
        round_trip(focus_sessions, odd_session, str(SESSION_ID), CLIENT).planned_duration_seconds
        == 60
    )
    spaced = replace(entities.user(UID), display_name=" Noor ", locale="en_GB")
    back = round_trip(users, spaced, UID)
    assert (back.display_name, back.locale) == ("Noor", "en-GB")
    android = replace(entities.device(UID), platform=Platform.ANDROID, push_token=None)
    assert round_trip(devices, android, entities.INSTALLATION).apns_environment is None
