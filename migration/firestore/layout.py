"""The legacy Firestore layout's names, its id rules and the fields the backend adds.

docs/migration/legacy-firestore.md describes every field; this module holds what code on both
sides of the migration must agree on: collection names, how a legacy document id becomes our
record id, the fields the backend adds when it writes a document, and why a document is kept
out of Postgres. The drift vocabulary of the seeder stays in `migration/legacy/layout.py`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from uuid import UUID, uuid5

from domain.migration import Entity
from domain.user_data import DataStore, of_entity

USERS = "users"
DEVICES = "devices"
BLOCKLISTS = "blocklists"
SCHEDULES = "schedules"
SESSIONS = "sessions"
USAGE = "usage"
SUBCOLLECTIONS = (DEVICES, BLOCKLISTS, SCHEDULES, SESSIONS, USAGE)
"""Under `users/{uid}`; the legacy app wrote nothing else."""


def collection_of(entity: Entity) -> str:
    """The legacy collection of `entity`'s records (`users` itself for profiles; sessions keep
    their legacy name), as the registry of per-user data names it."""
    return of_entity(entity, DataStore.FIRESTORE).location


LEGACY_ID_NAMESPACE = UUID("0f3c5a7e-9b1d-5e2f-8a4c-6d7e8f9a0b1c")
"""Fixed forever: changing it would give every migrated record a second id."""

VERSION_FIELD = "_v"
"""The record's version (Postgres `version`) on a document the backend wrote."""
WRITER_FIELD = "_writer"
"""Who wrote the document last, when it was not a legacy app: `backend`."""
BACKEND_WRITER = "backend"
ID_FIELD = "_id"
"""A session's record id, kept on the document (written since the first mirrors; a
collection-group query can find a session by it, Firestore filtering a collection group on a
document id only by its full path)."""
DELETED_AT_FIELD = "deletedAt"
"""The instant a record was deleted by the backend: the document stays as its tombstone."""

_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def record_id(uid: str, collection: str, doc_id: str) -> UUID:
    """Our id of `users/{uid}/{collection}/{doc_id}` (blocklists, schedules, sessions).

    A document the new backend wrote is named by its record's UUID (lower-case, canonical) and
    keeps it; a legacy auto-id (20 characters, never in that form) maps to a UUID5, so every
    run of the backfill, the sync and the verifier derives the same id without a lookup table.
    """
    if _CANONICAL_UUID.match(doc_id):
        return UUID(doc_id)
    return uuid5(LEGACY_ID_NAMESPACE, f"{uid}/{collection}/{doc_id}")


def usage_doc_id(day: dt.date, installation_id: str) -> str:
    """`2026-11-23_<installationId>`: `/` separates path segments in Firestore, so `_`."""
    return f"{day.isoformat()}_{installation_id}"


def parse_usage_doc_id(doc_id: str) -> tuple[dt.date, str]:
    """The day and installation id; the date has a fixed length, so `_` in the id is fine."""
    if len(doc_id) < 12 or doc_id[10] != "_":
        raise ValueError(f"not a usage document id: {doc_id!r}")
    return dt.date.fromisoformat(doc_id[:10]), doc_id[11:]


class QuarantineReason(StrEnum):
    """Why the migration keeps a document out of Postgres (docs: the Drift section)."""

    ORPHAN_OF_DELETED_USER = "orphan_of_deleted_user"
    MISSING_BLOCKLIST = "missing_blocklist"
    DANGLING_BLOCKLIST = "dangling_blocklist"
    FOREIGN_BLOCKLIST = "foreign_blocklist"
    WRONG_TYPE = "wrong_type"
    MISSING_REQUIRED = "missing_required"
    INVALID_VALUE = "invalid_value"
    INVALID_ID = "invalid_id"
