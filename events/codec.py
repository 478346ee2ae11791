"""An event on the wire: compact JSON, the same for Pub/Sub messages and replays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from domain.events import DomainEvent, EventType


class UndecodableEvent(ValueError):
    """The bytes are not an event of a schema version we know: poison, not a retry."""


def encode(event: DomainEvent) -> bytes:
    """The event as compact JSON; `occurred_at` in RFC 3339, UTC, with a `Z`."""
    occurred_at = event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {
        "id": str(event.id),
        "type": event.type.value,
        "schema_version": event.schema_version,
        "user_id": event.user_id,
        "subject_id": event.subject_id,
        "record_version": event.record_version,
        "occurred_at": occurred_at,
        "payload": event.payload,
    }
    if event.origin_installation_id is not None:
        body["origin_installation_id"] = event.origin_installation_id
    return orjson.dumps(body)


def decode(data: bytes) -> DomainEvent:
    try:
        body = orjson.loads(data)
        if not isinstance(body, dict):
            raise UndecodableEvent(f"not an event: {data[:80]!r}")
        # An undeclared type (a newer producer's, or a misspelt one) is poison like any other
        # undecodable message: consumers keep it in failed_messages for a replay.
        event_type = EventType.parse(_text(body.get("type")))
        if body.get("schema_version") != event_type.schema_version:
            raise UndecodableEvent(
                f"not {event_type} of schema version {event_type.schema_version}: {data[:80]!r}"
            )
        origin = body.get("origin_installation_id")
        event = DomainEvent(
            type=event_type,
            user_id=_text(body["user_id"]),
            subject_id=_text(body["subject_id"]),
            record_version=int(body["record_version"]),
            occurred_at=datetime.fromisoformat(body["occurred_at"]),
            payload=dict(body.get("payload") or {}),
            schema_version=event_type.schema_version,
            origin_installation_id=None if origin is None else _text(origin),
            id=UUID(body["id"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        if isinstance(error, UndecodableEvent):
            raise
        raise UndecodableEvent(f"{type(error).__name__}: {error}") from error
    if event.occurred_at.tzinfo is None:
        raise UndecodableEvent("occurred_at has no offset")
    return event


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise UndecodableEvent(f"expected a non-empty string, got {value!r}")
    return value
