"""Everything of a user hangs off the user's uid, so that erasure and export can find it all."""

from __future__ import annotations

import psycopg
from psycopg import sql
from starlette.testclient import TestClient

from domain.user_data import DataStore, Erasure, in_store
from tests.conftest import ApiUser

GO_WITH_THE_USER = [
    entry.location
    for entry in in_store(DataStore.POSTGRES)
    if entry.erasure is Erasure.CASCADE or entry.location == "users"
]
"""What deleting the user's row removes (the registry, `domain/user_data.py`): the user and
every table cascading from it. The registry's own tests check every table is declared."""


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
    tables = GO_WITH_THE_USER
    assert "focus_sessions" in tables

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
