"""A record as verify compares it: its key, its domain entity (or a tombstone), or why its
document is quarantined; and the comparable form of each side.

Both sides are compared as domain objects. A Postgres record first goes through the legacy
layout (`to_document` then `from_document`): what the layout cannot hold (blocklist items'
order, seconds of a planned duration, …; docs/migration/legacy-firestore.md, "What does not
round-trip") is not a divergence, or a store in dual writes could never pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from google.cloud.firestore_v1.base_client import BaseClient

from domain.migration import Entity
from migration.entities import BINDINGS
from migration.firestore.mapping.common import MappingContext, Unmappable
from migration.shadow import normalise

IGNORED_FIELDS = frozenset({"version"})
"""Legacy documents carry no version (`_v`): versions are Postgres's, not compared."""


@dataclass(frozen=True, slots=True)
class Found:
    """A record in one store; `record` is None for a Firestore tombstone."""

    key: str
    record: Any | None
    deleted: bool
    version: int


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A document the mapping refuses: known, reported apart, never missing."""

    key: str
    reason: str


def example_id(uid: str, key: str) -> str:
    """What reports show: ids only (`uid`, `uid/<record key>`), never a value."""
    return f"{uid}/{key}" if key else uid


def comparable(record: Any) -> dict[str, Any]:
    plain: dict[str, Any] = normalise(record)
    return {name: value for name, value in plain.items() if name not in IGNORED_FIELDS}


def through_layout(entity: Entity, record: Any, client: BaseClient, as_of: dt.datetime) -> Any:
    """The record as the legacy layout holds it; the record itself when the layout refuses it
    (an instant before 2015, say), so that the difference shows."""
    binding = BINDINGS[entity]
    document = binding.to_document(record, client)
    uid = binding.owner_of(record)
    try:
        return binding.from_document(
            uid,
            binding.document_id(uid, binding.key_of(record)),
            document,
            create_time=record.created_at,
            update_time=record.updated_at,
            context=MappingContext(as_of=as_of),
        )
    except Unmappable:
        return record
