"""The legacy Firestore layout as the seeder and the migration see it.

The names, the id rules and the quarantine reasons live with the Firestore adapter
(`migration/firestore/layout.py`) and are re-exported here; the drift vocabulary is the
seeder's own.
"""

from __future__ import annotations

from enum import StrEnum

from migration.firestore.layout import (
    BACKEND_WRITER,
    BLOCKLISTS,
    DEVICES,
    LEGACY_ID_NAMESPACE,
    SCHEDULES,
    SESSIONS,
    SUBCOLLECTIONS,
    USAGE,
    USERS,
    VERSION_FIELD,
    WRITER_FIELD,
    QuarantineReason,
    parse_usage_doc_id,
    record_id,
    usage_doc_id,
)

__all__ = [
    "BACKEND_WRITER",
    "BLOCKLISTS",
    "DEVICES",
    "LEGACY_ID_NAMESPACE",
    "SCHEDULES",
    "SESSIONS",
    "SUBCOLLECTIONS",
    "USAGE",
    "USERS",
    "VERSION_FIELD",
    "WRITER_FIELD",
    "DriftKind",
    "QuarantineReason",
    "parse_usage_doc_id",
    "record_id",
    "usage_doc_id",
]


class DriftKind(StrEnum):
    """How a legacy document departs from the layout (the seed writes each of them)."""

    EPOCH_MILLIS_TIMESTAMP = "epoch_millis_timestamp"
    ISO_STRING_TIMESTAMP = "iso_string_timestamp"
    MISSING_TIMEZONE = "missing_timezone"
    MISSING_FIELD = "missing_field"
    PLATFORM_CASING = "platform_casing"
    DAYS_AS_INTS = "days_as_ints"
    GOAL_AS_STRING = "goal_as_string"
    BLOCKLIST_AS_ID_STRING = "blocklist_as_id_string"
    BLOCKLIST_MISSING = "blocklist_missing"
    DANGLING_BLOCKLIST = "dangling_blocklist"
    UNKNOWN_FIELDS = "unknown_fields"
    STALE_RUNNING_SESSION = "stale_running_session"
    WRONG_TYPE = "wrong_type"
    ORPHAN_OF_DELETED_USER = "orphan_of_deleted_user"
