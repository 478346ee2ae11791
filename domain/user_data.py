"""Every kind of data a user has, in every store, declared once: the registry of per-user data.

Each entry says where the data lives (store, table or collection, how the uid keys it), whether
it is personal, whether a data-subject export carries it, how erasure removes it, how long it is
kept, and which record kind (`Entity`) the Firestore migration moves it as. The migration reads
its per-entity tables and collections from here; export, erasure and growth exports enumerate
it. `tests/unit/test_user_data_registry.py` fails when a Postgres table holding a uid, or a
collection of the legacy Firestore layout, is in no entry, and when an entry names a table that
does not exist.

Personal means what a person typed or what identifies a person or device beyond the uid (a
name, a push token, a device model, what they block, when they focus). A uid alone is a
pseudonymous id: rows holding only ids are not personal, but they are still the user's and
erasure still reaches them (`erasure`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.migration import Entity


class DataStore(StrEnum):
    POSTGRES = "postgres"
    FIRESTORE = "firestore"
    """The legacy layout the Firebase app writes (docs/migration/legacy-firestore.md)."""
    FIREBASE_AUTH = "firebase_auth"
    CLOUD_TASKS = "cloud_tasks"
    REDIS = "redis"
    FILES = "files"
    """The bucket (a local folder on the embedded default): exports handed to users."""


class Erasure(StrEnum):
    DELETE = "delete"
    """Deleted by uid: the user's row (which cascades), or rows and documents with no foreign
    key to it."""
    CASCADE = "cascade"
    """Goes with the user's row: a foreign key `ON DELETE CASCADE` to `users.uid`."""
    EXPIRES = "expires"
    """Ids only, gone by age (`retention`): nothing of the user is readable through it once the
    user's rows are gone."""
    SCRUB = "scrub"
    """Kept as a record of what happened (audit, operations), with the uid taken out."""
    KEPT = "kept"
    """Must outlive the user: erasure's own list of erased uids."""


@dataclass(frozen=True, slots=True)
class UserData:
    name: str
    """Unique; the table or collection name unless two stores share one."""
    store: DataStore
    location: str
    """The table, the collection id (`users/{uid}/<location>`; `users` itself), the queue or
    the key prefix."""
    key: str
    """Where the uid is: a column, a path, a JSON field."""
    holds: str
    """What it holds, in a few words."""
    personal: bool
    exported: bool
    """Part of what a data-subject export gives the user (the legacy Firestore copies while
    their entity is not `postgres_only`)."""
    erasure: Erasure
    retention: str
    entity: Entity | None = None
    """The record kind the Firestore migration moves (the same records in both stores)."""
    exemption: str | None = None
    """Why erasure keeps it (`Erasure.KEPT` only): the GDPR ground, recorded in the audit
    trail of every erasure."""


_UNTIL_DELETED = "until the user deletes it or the account"
_FK = "user_id (foreign key to users.uid)"

REGISTRY: tuple[UserData, ...] = (
    # --- Postgres: the records ------------------------------------------------------------
    UserData("users", DataStore.POSTGRES, "users", "uid",
             "profile: display name, timezone, locale, goals, quiet hours; the change counter",
             personal=True, exported=True, erasure=Erasure.DELETE, retention="until the account",
             entity=Entity.USERS),
    UserData("devices", DataStore.POSTGRES, "devices", _FK,
             "installations: platform, model, app version, timezone, push token",
             personal=True, exported=True, erasure=Erasure.CASCADE, retention=_UNTIL_DELETED,
             entity=Entity.DEVICES),
    UserData("blocklists", DataStore.POSTGRES, "blocklists", _FK,
             "names and blocked apps, sites and categories (tombstones too)",
             personal=True, exported=True, erasure=Erasure.CASCADE, retention=_UNTIL_DELETED,
             entity=Entity.BLOCKLISTS),
    UserData("schedules", DataStore.POSTGRES, "schedules", _FK,
             "names, days and times, the blocklist they enforce (tombstones too)",
             personal=True, exported=True, erasure=Erasure.CASCADE, retention=_UNTIL_DELETED,
             entity=Entity.SCHEDULES),
    UserData("focus_sessions", DataStore.POSTGRES, "focus_sessions", _FK,
             "when the user focused, for how long, how it ended",
             personal=True, exported=True, erasure=Erasure.CASCADE, retention="until the account",
             entity=Entity.FOCUS_SESSIONS),
    UserData("usage_reports", DataStore.POSTGRES, "usage_reports", _FK,
             "daily screen time per installation: minutes, pickups, per category",
             personal=True, exported=True, erasure=Erasure.CASCADE, retention="until the account",
             entity=Entity.USAGE),
    # --- Postgres: what the machinery keeps per user ---------------------------------------
    UserData("idempotency_keys", DataStore.POSTGRES, "idempotency_keys", _FK,
             "the stored response of a retried write (copies of the user's records)",
             personal=True, exported=False, erasure=Erasure.CASCADE, retention="24 hours"),
    UserData("outbox_events", DataStore.POSTGRES, "outbox_events", _FK,
             "domain events: type, record id and version (docs/events.md: ids, no values)",
             personal=False, exported=False, erasure=Erasure.CASCADE,
             retention="7 days after publishing"),
    UserData("processed_events", DataStore.POSTGRES, "processed_events", _FK,
             "which consumer handled which event id",
             personal=False, exported=False, erasure=Erasure.CASCADE, retention="8 days"),
    UserData("push_budgets", DataStore.POSTGRES, "push_budgets", _FK,
             "each device's recent silent pushes and the version it was settled for",
             personal=False, exported=False, erasure=Erasure.CASCADE,
             retention="until the account"),
    UserData("pending_mirrors", DataStore.POSTGRES, "pending_mirrors", _FK,
             "Firestore documents committed writes still owe (copies of records)",
             personal=True, exported=False, erasure=Erasure.CASCADE,
             retention="until written to Firestore"),
    UserData("legacy_sync_positions", DataStore.POSTGRES, "legacy_sync_positions", _FK,
             "per legacy document, the update time of its last applied change",
             personal=False, exported=False, erasure=Erasure.CASCADE,
             retention="until the migration is removed"),
    UserData("backfill_quarantine", DataStore.POSTGRES, "backfill_quarantine",
             "uid (no foreign key: the user may have no row)",
             "paths of legacy documents the backfill kept out, and why (no document values)",
             personal=False, exported=False, erasure=Erasure.DELETE,
             retention="until the migration is removed"),
    UserData("scheduled_tasks", DataStore.POSTGRES, "scheduled_tasks", "payload.user_id",
             "delayed jobs of the embedded default (a push to a device after quiet hours)",
             personal=False, exported=False, erasure=Erasure.EXPIRES,
             retention="2 days after running, 30 days dead"),
    UserData("failed_messages", DataStore.POSTGRES, "failed_messages",
             "attributes and pointer (user_id, path)",
             "messages a consumer gave up on: ids and the reason, never a document",
             personal=False, exported=False, erasure=Erasure.SCRUB,
             retention="30 days after replay"),
    UserData("migration_verifications", DataStore.POSTGRES, "migration_verifications",
             "examples (`uid/record` ids)",
             "verify runs: counts, field names and a few example ids",
             personal=False, exported=False, erasure=Erasure.SCRUB,
             retention="while the migration runs"),
    UserData("erased_users", DataStore.POSTGRES, "erased_users", "uid",
             "the uids erasure removed, so that no sync, backfill or restore brings them back",
             personal=False, exported=False, erasure=Erasure.KEPT, retention="for ever",
             exemption="Art. 17(3)(b): to comply with the erasure itself (it must not return)"),
    UserData("privacy_requests", DataStore.POSTGRES, "privacy_requests", "subject_uid",
             "the user's export and erasure requests: kind, states, dates, staff ids",
             personal=False, exported=False, erasure=Erasure.SCRUB,
             retention="3 years after closing (proof of compliance), the uid until closed"),
    UserData("privacy_audit", DataStore.POSTGRES, "privacy_audit",
             "subject_hash (a keyed hash of the uid, never the uid)",
             "who did what to which request, when, to which kinds of data: no personal data",
             personal=False, exported=False, erasure=Erasure.KEPT,
             retention="3 years (proof of compliance)",
             exemption="Art. 5(2), 17(3)(b): accountability for how the request was answered"),
    UserData("ai_consents", DataStore.POSTGRES, "ai_consents", _FK,
             "the user's consents to AI features: feature, provider, text version, when",
             personal=True, exported=True, erasure=Erasure.CASCADE,
             retention="until the account"),
    UserData("ai_insights", DataStore.POSTGRES, "ai_insights", _FK,
             "the user's AI results: weekly insights and schedule suggestions (text, numbers, "
             "window, the schedule an accepted one created), which provider wrote each, dismissed "
             "ones as tombstones",
             personal=True, exported=True, erasure=Erasure.CASCADE,
             retention="until the account"),
    UserData("ai_result_counts", DataStore.POSTGRES, "ai_result_counts", _FK,
             "how many AI results (insights, suggestions) the user got per period: counts",
             personal=False, exported=False, erasure=Erasure.CASCADE,
             retention="until the account"),
    UserData("analytics_keys", DataStore.POSTGRES, "analytics_keys", _FK,
             "the secret behind the user's pseudonym in growth exports, and the pseudonym",
             personal=False, exported=False, erasure=Erasure.DELETE,
             retention="until the account (destroying it unlinks every exported row: ADR 0020)"),
    # --- Firestore: the legacy layout old app versions still read and write -------------------
    *(
        UserData(f"firestore_{collection}", DataStore.FIRESTORE, collection, path, holds,
                 personal=True, exported=True, erasure=Erasure.DELETE,
                 retention="until the migration is removed", entity=entity)
        for collection, path, holds, entity in (
            ("users", "users/{uid}", "the profile document", Entity.USERS),
            ("devices", "users/{uid}/devices", "installations", Entity.DEVICES),
            ("blocklists", "users/{uid}/blocklists", "blocklists", Entity.BLOCKLISTS),
            ("schedules", "users/{uid}/schedules", "schedules", Entity.SCHEDULES),
            ("sessions", "users/{uid}/sessions", "focus sessions", Entity.FOCUS_SESSIONS),
            ("usage", "users/{uid}/usage", "daily usage reports", Entity.USAGE),
        )
    ),
    # --- Elsewhere ---------------------------------------------------------------------------
    UserData("firebase_account", DataStore.FIREBASE_AUTH, "accounts", "the account's uid",
             "sign-in identity: email, providers, sign-in times",
             personal=True, exported=True, erasure=Erasure.DELETE, retention="until the account"),
    UserData("privacy_exports", DataStore.FILES, "privacy/exports", "the request's path",
             "the archives earlier export requests produced", personal=True, exported=False,
             erasure=Erasure.DELETE, retention="30 days"),
    UserData("push_tasks", DataStore.CLOUD_TASKS, "push", "task payload user_id",
             "a silent push to one device, held back to a later time",
             personal=False, exported=False, erasure=Erasure.EXPIRES,
             retention="until it runs (minutes to hours)"),
    UserData("rate_limit_counters", DataStore.REDIS, "LIMITS", "key (`user`, kind, uid)",
             "request counts in the current window", personal=False, exported=False,
             erasure=Erasure.EXPIRES, retention="one window (at most an hour)"),
)  # fmt: skip
"""The exported records come first: a data-subject export lists them in this order."""


def in_store(store: DataStore) -> tuple[UserData, ...]:
    return tuple(entry for entry in REGISTRY if entry.store is store)


def of_entity(entity: Entity, store: DataStore) -> UserData:
    """Where `store` keeps the records of `entity` (every entity is in Postgres and Firestore)."""
    for entry in REGISTRY:
        if entry.entity is entity and entry.store is store:
            return entry
    raise LookupError(f"no {store} entry for {entity}")


def locations(entries: Iterable[UserData]) -> frozenset[str]:
    return frozenset(entry.location for entry in entries)
