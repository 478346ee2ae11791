"""The registry of per-user data covers every store's per-user data, and names only what exists.

A new table holding a uid, or a new collection in the legacy layout, fails here until it is
declared in `domain/user_data.py` (with how export and erasure treat it)."""

from __future__ import annotations

from collections import Counter

from datastore.postgres.tables import metadata
from domain.migration import Entity
from domain.user_data import REGISTRY, DataStore, Erasure, in_store, locations, of_entity
from migration.firestore import layout

NOT_PER_USER = {
    # Keyed by entity kind, not by anything of a user: phases, their audit trail, checkpoints.
    "migration_phases",
    "migration_phase_changes",
    "backfill_checkpoints",
    # Keyed by a privacy request's id: the request names its subject, its steps do not.
    "privacy_steps",
    # Compliance staff's own accounts (their work emails), not the app's users: no uid column.
    "staff_members",
    # AI providers' token spend per day (no uid).
    "ai_token_spend",
    # Growth exports: their runs, and pseudonyms of erased users (no uid; ADR 0020).
    "growth_runs",
    "growth_forget",
}
"""Tables that hold nothing of any user."""
USER_COLUMNS = ("uid", "user_id", "subject_uid")


def test_every_postgres_table_is_declared_or_holds_nothing_of_a_user() -> None:
    declared = locations(in_store(DataStore.POSTGRES))
    undeclared = set(metadata.tables) - declared - NOT_PER_USER

    assert undeclared == set(), f"declare {sorted(undeclared)} in domain/user_data.py"


def test_a_table_keyed_by_a_uid_is_never_called_not_per_user() -> None:
    for name in NOT_PER_USER:
        columns = set(metadata.tables[name].columns.keys())
        assert not columns & set(USER_COLUMNS), f"{name} holds a uid: declare it"


def test_every_legacy_collection_is_declared() -> None:
    declared = locations(in_store(DataStore.FIRESTORE))

    assert declared == {layout.USERS, *layout.SUBCOLLECTIONS}


def test_every_declared_table_exists_and_cascading_ones_reference_users() -> None:
    for entry in in_store(DataStore.POSTGRES):
        table = metadata.tables.get(entry.location)
        assert table is not None, f"{entry.name}: no table {entry.location}"
        if entry.erasure is Erasure.CASCADE:
            to_users = [
                fk.ondelete
                for fk in table.columns["user_id"].foreign_keys
                if fk.target_fullname == "users.uid"
            ]
            assert to_users == ["CASCADE"], entry.name


def test_names_are_unique_and_every_entity_is_in_both_stores() -> None:
    assert [n for n, c in Counter(e.name for e in REGISTRY).items() if c > 1] == []
    for entity in Entity:
        assert of_entity(entity, DataStore.POSTGRES).exported, entity
        assert of_entity(entity, DataStore.FIRESTORE).personal, entity


def test_what_is_exported_is_what_is_personal_in_the_stores_we_own() -> None:
    """An export gives the user their records, and the legacy Firestore copies while the
    migration runs (an old app may have changed them there); copies kept for the machinery
    (stored responses, pending mirrors) are not repeated."""
    exported = {e.name for e in REGISTRY if e.exported}
    legacy = {e.name for e in in_store(DataStore.FIRESTORE)}

    assert exported - legacy == {
        "users", "devices", "blocklists", "schedules", "focus_sessions", "usage_reports",
        "ai_consents", "ai_insights", "firebase_account",
    }  # fmt: skip
    assert legacy <= exported


def test_what_erasure_keeps_says_under_which_exemption() -> None:
    for entry in REGISTRY:
        kept = entry.erasure is Erasure.KEPT
        assert (entry.exemption is not None) == kept, entry.name
        assert not (kept and entry.personal), f"{entry.name}: kept data holds nothing personal"
