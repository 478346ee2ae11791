"""Everything of a user hangs off the user's uid, so that erasure and export can find it all."""

from __future__ import annotations

import psycopg
from psycopg import sql
from starlette.testclient import TestClient

from datastore.postgres.tables import metadata
from tests.conftest import ApiUser

SYSTEM_TABLES = {
    # Keyed by message or task, not by user: they hold ids only (no personal data), a user's
    # rows find nothing once the user is erased, and they are purged by age.
    "failed_messages",
    "scheduled_tasks",
    # Keyed by entity kind (`users`, `devices`, …), not by user: the migration's phases, their
    # audit trail (operator names, reasons) and verify runs (counts; record ids as examples).
    "migration_phases",
    "migration_phase_changes",
    "migration_verifications",
    # The tombstone list of erasure itself: keyed by the erased uid, it must outlive the user.
    "erased_users",
    # The backfill's checkpoints: keyed by entity kind, paths and counts only.
    "backfill_checkpoints",
    # Documents the backfill kept out, keyed by path: their uid may have no `users` row
    # (orphans of deleted accounts), so no foreign key; erasure deletes them by uid.
    "backfill_quarantine",
}


def test_every_table_is_keyed_by_the_users_uid() -> None:
    for table in metadata.sorted_tables:
        if table.name == "users" or table.name in SYSTEM_TABLES:
            continue
        user_id = table.columns.get("user_id")
        assert user_id is not None, f"{table.name} has no user_id"
        assert not user_id.nullable, f"{table.name}.user_id may be null"
        to_users = [fk for fk in user_id.foreign_keys if fk.target_fullname == "users.uid"]
        assert to_users, f"{table.name}.user_id does not reference users.uid"
        assert to_users[0].ondelete == "CASCADE", f"{table.name} would outlive its user"


def test_removing_the_users_row_leaves_nothing_of_theirs(
    client: TestClient, alice: ApiUser, bob: ApiUser, database_url: str
) -> None:
    for user in (alice, bob):
        client.put(
            "/v1/devices/install-0001",
            headers=user.headers,
            json={"platform": "android", "app_version": "4.2.0"},
        )
        client.post(
            "/v1/blocklists",
            headers=user.with_headers(Idempotency_Key="k"),
            json={"name": "Games", "items": [{"kind": "category", "value": "games"}]},
        )
        client.post(
            "/v1/focus-sessions", headers=user.headers, json={"planned_duration_minutes": 25}
        )
    tables = [t.name for t in metadata.sorted_tables if t.name not in SYSTEM_TABLES]

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE uid = %s", (alice.uid,))
        left = {}
        for name in tables:
            key = "uid" if name == "users" else "user_id"
            count = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
                sql.Identifier(name), sql.Identifier(key)
            )
            left[name] = conn.execute(count, (alice.uid,)).fetchone()
        bobs = conn.execute(
            "SELECT count(*) FROM focus_sessions WHERE user_id = %s", (bob.uid,)
        ).fetchone()

    assert set(left.values()) == {(0,)}, left
    assert bobs == (1,)
