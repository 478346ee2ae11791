"""The wire format of an event: the same bytes for every declared type, and an undeclared type
refused as undecodable (consumers keep such a message in failed_messages)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import orjson
import pytest

from domain.events import DomainEvent, EventType
from events.codec import UndecodableEvent, decode, encode

NOW = datetime(2026, 12, 3, 9, 0, 0, 250000, tzinfo=UTC)
EVENT_ID = UUID("019ae3c4-0000-7000-8000-000000000001")


def event(event_type: EventType = EventType.SCHEDULE_UPDATED) -> DomainEvent:
    return DomainEvent(event_type, "u1", "s-1", 7, NOW, origin_installation_id="ph", id=EVENT_ID)


def with_type(name: str, schema_version: int = 1) -> bytes:
    body = orjson.loads(encode(event()))
    return orjson.dumps({**body, "type": name, "schema_version": schema_version})


def test_an_event_is_written_as_its_types_name() -> None:
    assert encode(event()) == (
        b'{"id":"019ae3c4-0000-7000-8000-000000000001","type":"schedule.updated",'
        b'"schema_version":1,"user_id":"u1","subject_id":"s-1","record_version":7,'
        b'"occurred_at":"2026-12-03T09:00:00.250000Z","payload":{},"origin_installation_id":"ph"}'
    )


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_declared_type_reads_back_as_itself(event_type: EventType) -> None:
    decoded = decode(encode(event(event_type)))

    assert decoded == event(event_type)
    assert decoded.type is event_type


@pytest.mark.parametrize("name", ["schedule.renamed", "schedule.Updated", "schedule"])
def test_an_undeclared_type_is_undecodable_and_named(name: str) -> None:
    with pytest.raises(UndecodableEvent, match=f"UnknownEventType: '{name}'"):
        decode(with_type(name))


def test_a_declared_type_at_a_schema_version_it_does_not_have_is_undecodable() -> None:
    with pytest.raises(UndecodableEvent, match=r"schedule\.updated of schema version 1"):
        decode(with_type("schedule.updated", schema_version=2))


def test_an_event_without_a_type_is_undecodable() -> None:
    body = orjson.loads(encode(event()))
    del body["type"]

    with pytest.raises(UndecodableEvent):
        decode(orjson.dumps(body))
