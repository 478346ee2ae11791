"""Each entity's legacy documents as the backfill and verify read them: the collection, the
order entities go in, the mapping both ways, and a snapshot mapped with a context.

One definition for both: verify compares Firestore mapped exactly as the backfill maps it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from google.cloud.firestore_v1.base_client import BaseClient

from domain.migration import Entity
from migration.firestore import layout
from migration.firestore.mapping import (
    blocklists,
    devices,
    focus_sessions,
    schedules,
    usage,
    users,
)
from migration.firestore.repositories.common import FromDocument

T = TypeVar("T")

ORDER = (
    Entity.USERS,
    Entity.DEVICES,
    Entity.BLOCKLISTS,
    Entity.SCHEDULES,
    Entity.FOCUS_SESSIONS,
    Entity.USAGE,
)
"""Owners before what they own: users first (their rows carry the version counters), blocklists
before the schedules and sessions that point at them."""
COLLECTIONS = {entity: layout.collection_of(entity) for entity in Entity}
"""The legacy collection of each entity (sessions keep their legacy name)."""
FROM_DOCUMENT: dict[Entity, FromDocument[Any]] = {
    Entity.USERS: users.from_document,
    Entity.DEVICES: devices.from_document,
    Entity.BLOCKLISTS: blocklists.from_document,
    Entity.SCHEDULES: schedules.from_document,
    Entity.FOCUS_SESSIONS: focus_sessions.from_document,
    Entity.USAGE: usage.from_document,
}
NEEDS_USER = (Entity.SCHEDULES, Entity.FOCUS_SESSIONS)
"""Entities whose mapping needs the user's timezone and blocklists."""


def to_document(entity: Entity, record: Any, client: BaseClient) -> dict[str, Any]:
    """The document the legacy layout holds for a record (references need the client)."""
    match entity:
        case Entity.USERS:
            return users.to_document(record)
        case Entity.DEVICES:
            return devices.to_document(record)
        case Entity.BLOCKLISTS:
            return blocklists.to_document(record)
        case Entity.SCHEDULES:
            return schedules.to_document(record, client)
        case Entity.FOCUS_SESSIONS:
            return focus_sessions.to_document(record, client)
        case Entity.USAGE:
            return usage.to_document(record)
