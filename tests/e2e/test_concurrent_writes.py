"""Two phones of one user writing at once: If-Match holds, nothing is lost."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import psycopg

from tests.e2e.conftest import bearer
from tests.support.firebase_emulator import AuthEmulator


def _wait_for_lock_waiters(conn: psycopg.Connection[tuple[object, ...]], count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        if waiting and waiting[0] >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} requests reached the user's lock")


def test_two_edits_with_the_same_etag_at_the_same_moment_one_wins_one_gets_412(
    http: httpx2.Client, auth_emulator: AuthEmulator, database_url: str
) -> None:
    uid, token = auth_emulator.sign_up_anonymous()
    etag = http.get("/v1/me", headers=bearer(token)).headers["ETag"]

    def edit(name: str) -> int:
        headers = {**bearer(token), "If-Match": etag}
        return http.patch("/v1/me", headers=headers, json={"display_name": name}).status_code

    # Hold the user's row so that both edits arrive before either may proceed.
    with psycopg.connect(database_url) as holder, ThreadPoolExecutor(max_workers=2) as pool:
        holder.execute("SELECT 1 FROM users WHERE uid = %s FOR UPDATE", (uid,))
        edits = [pool.submit(edit, name) for name in ("phone A", "phone B")]
        with psycopg.connect(database_url, autocommit=True) as observer:
            _wait_for_lock_waiters(observer, 2)
        holder.rollback()
        statuses = sorted(edit.result(timeout=30) for edit in edits)

    assert statuses == [200, 412]
    profile = http.get("/v1/me", headers=bearer(token)).json()
    assert profile["display_name"] in ("phone A", "phone B")
