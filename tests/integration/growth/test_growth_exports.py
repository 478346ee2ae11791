"""Growth exports end to end on Postgres and local files: who is exported (consenting, not
erased), what (the contract's columns only, pseudonymised: no seeded personal string in any
file), incrementally by commit order, published by manifest only when complete, resumed after
a crash, reproduced byte for byte, and erased people compacted out."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import psycopg
import pyarrow.parquet as pq
import pytest

from domain.files import FileStore
from domain.growth.contract import BY_NAME, DATASETS, FORBIDDEN_COLUMNS
from exports.runner import GrowthExporter
from tests.conftest import ApiUser
from tests.integration.growth.conftest import (
    BLOCKLIST_NAME,
    PUSH_TOKEN,
    SCHEDULE_NAME,
    SECRET_NAME,
    Growth,
)
from tests.support.clock import TestClock

NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
PHONE = "install-growth-0001"


def seed(growth: Growth, user: ApiUser, *, consent: bool) -> dict[str, str]:
    """A person with one record of every exported kind, as the app writes them."""
    c, h = growth.client, user.headers
    profile = {"display_name": SECRET_NAME, "timezone": "Europe/Berlin", "locale": "de-DE",
               "consents": {"analytics": consent}}  # fmt: skip
    assert c.patch("/v1/me", headers=h, json=profile).status_code == 200
    device = {"platform": "ios", "app_version": "4.2.0", "os_version": "18.1",
              "push_token": PUSH_TOKEN, "apns_environment": "production"}  # fmt: skip
    assert c.put(f"/v1/devices/{PHONE}", headers=h, json=device).is_success
    blocklist = {"name": BLOCKLIST_NAME, "items": [{"kind": "web_domain", "value": "x.com"}]}
    made = c.post("/v1/blocklists", headers=user.with_headers(Idempotency_Key="b1"), json=blocklist)
    assert made.status_code == 201, made.text
    schedule = {"name": SCHEDULE_NAME, "days": ["mon", "tue"], "start_local": "22:00",
                "end_local": "06:30", "timezone": "Europe/Berlin",
                "blocklist_id": made.json()["id"]}  # fmt: skip
    assert c.post("/v1/schedules", headers=h, json=schedule).status_code == 201
    session = c.post("/v1/focus-sessions", headers=h, json={"planned_duration_minutes": 25})
    assert session.status_code == 201, session.text
    usage = {"installation_id": PHONE, "total_minutes": 200, "pickups": 57,
             "minutes_per_category": {"social": 90},
             "top_apps": [{"token": "com.example.secretapp", "minutes": 40}]}  # fmt: skip
    assert c.put("/v1/usage/2026-06-14", headers=h, json=usage).is_success
    return {"session": session.json()["id"]}


def published(growth: Growth) -> list[dict[str, Any]]:
    """Every published manifest (oldest window first per dataset)."""
    folder = growth.files / "growth" / "v1" / "_manifests"
    return [json.loads(p.read_text()) for p in sorted(folder.rglob("*.json"))]


def rows(growth: Growth, dataset: str) -> list[dict[str, Any]]:
    """A dataset's rows, the partition column read from each file's path (Hive style)."""
    folder = growth.files / "growth" / "v1" / dataset
    found = []
    for path in sorted(folder.rglob("*.parquet")):
        day = date.fromisoformat(path.parent.name.removeprefix("date="))
        found += [r | {"date": day} for r in pq.read_table(path).to_pylist()]
    return found


def pseudonym_of(database_url: str, uid: str) -> str | None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT secret, pseudonym FROM analytics_keys WHERE user_id = %s", (uid,)
        ).fetchone()
    if found is None:
        return None
    secret, pseudonym = found
    assert pseudonym == hmac.new(bytes(secret), uid.encode(), hashlib.sha256).hexdigest()
    return str(pseudonym)


def test_people_who_allow_analytics_are_exported_pseudonymised_in_the_contracts_columns(
    growth: Growth, clock: TestClock, scratch_database: str
) -> None:
    clock.set(NOON)
    alice, bob = growth.user(), growth.user()
    alice_session = seed(growth, alice, consent=True)["session"]
    seed(growth, bob, consent=False)

    done = growth.run()

    alice_p = pseudonym_of(scratch_database, alice.uid)
    assert alice_p is not None
    assert pseudonym_of(scratch_database, bob.uid) is None  # no secret for who did not consent
    assert {p.dataset for p in done} == set(BY_NAME)
    manifests = {m["dataset"]: m for m in published(growth)}
    assert set(manifests) == set(BY_NAME)
    for dataset in DATASETS:
        manifest = manifests[dataset.name]
        assert manifest["contract_version"] == 1
        assert manifest["rows"] == sum(f["rows"] for f in manifest["files"]) > 0
        for entry in manifest["files"]:
            path = growth.files / entry["key"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert f"/date={entry['partition']}/" in entry["key"]
            schema = pq.read_schema(path)
            # The contract's columns in its order; the partition's is in the path only.
            in_path = tuple(n for n in dataset.column_names if n != dataset.partition)
            assert tuple(schema.names) == in_path
            assert not set(schema.names) & FORBIDDEN_COLUMNS
        assert {r["pseudonym"] for r in rows(growth, dataset.name)} == {alice_p}
    (session,) = rows(growth, "focus_sessions")
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        found = conn.execute("SELECT secret FROM analytics_keys WHERE user_id = %s", (alice.uid,))
        (secret,) = found.fetchone() or (b"",)
    key = hmac.new(bytes(secret), alice_session.encode(), hashlib.sha256).hexdigest()
    assert session["record"] == key  # HMAC-SHA256(the person's secret, the session's id)
    assert (session["date"].isoformat(), session["local_start_hour"]) == ("2026-06-15", 14)
    assert (session["planned_minutes"], session["actual_minutes"], session["outcome"]) == (
        25, None, None,
    )  # fmt: skip
    (person,) = rows(growth, "users")
    assert (person["locale"], person["country"], person["utc_offset_hours"]) == ("de-DE", "DE", 2)
    assert person["platforms"] == ["ios"]
    (schedule,) = rows(growth, "schedules")
    assert (schedule["days"], schedule["window_minutes"]) == (["mon", "tue"], 510)
    (device,) = rows(growth, "devices")
    (usage,) = rows(growth, "daily_usage")
    assert device["record"] == usage["record"]  # one installation, one key
    assert (usage["total_minutes"], usage["pickups"]) == (200, 57)
    everything = b"".join(p.read_bytes() for p in growth.files.rglob("*") if p.is_file())
    for personal in (alice.uid, bob.uid, SECRET_NAME, PUSH_TOKEN, PHONE, BLOCKLIST_NAME,
                     SCHEDULE_NAME, "com.example.secretapp", "x.com"):  # fmt: skip
        assert personal.encode() not in everything, personal


def test_each_run_exports_only_what_was_written_since_and_duckdb_keeps_the_latest(
    growth: Growth, clock: TestClock
) -> None:
    clock.set(NOON)
    alice = growth.user()
    ids = seed(growth, alice, consent=True)
    growth.run()
    clock.set(NOON + timedelta(minutes=30))
    ended = growth.client.post(
        f"/v1/focus-sessions/{ids['session']}/end",
        headers=alice.headers,
        json={"outcome": "completed", "ended_at": (NOON + timedelta(minutes=25)).isoformat()},
    )
    assert ended.status_code == 200, ended.text

    second = {p.dataset: p for p in growth.run()}
    third = growth.run()

    assert second["focus_sessions"].rows == 1
    assert second["devices"].rows == second["schedules"].rows == 0
    assert all(p.rows == 0 and p.files == 0 for p in third)
    # Every window is recorded, an empty one too (the watermark says what was looked at).
    windows = [m for m in published(growth) if m["dataset"] == "focus_sessions"]
    assert [m["rows"] for m in windows] == [1, 1, 0]
    sessions = rows(growth, "focus_sessions")
    assert len(sessions) == 2
    assert len({r["record"] for r in sessions}) == 1
    latest = duckdb.sql(
        "SELECT outcome, actual_minutes FROM read_parquet(?, hive_partitioning = true)"
        " QUALIFY row_number() OVER (PARTITION BY record ORDER BY change DESC) = 1",
        params=[str(growth.files / "growth/v1/focus_sessions/**/*.parquet")],
    ).fetchall()
    assert latest == [("completed", 25)]


def test_a_window_run_again_gives_the_same_files_byte_for_byte(
    growth: Growth, clock: TestClock
) -> None:
    clock.set(NOON)
    seed(growth, growth.user(), consent=True)
    seed(growth, growth.user(), consent=True)
    (first,) = growth.run(datasets=["focus_sessions"])
    before = {p: p.read_bytes() for p in (growth.files / "growth/v1").rglob("*") if p.is_file()}

    (again,) = growth.run(datasets=["focus_sessions"], since=first.window.lower,
                          until=first.window.upper)  # fmt: skip

    after = {p: p.read_bytes() for p in (growth.files / "growth/v1").rglob("*") if p.is_file()}
    assert again.window == first.window
    assert again.rows == first.rows == 2
    assert after == before


class _FailingAfter:
    """A file store that fails the n-th upload, as a process killed mid-run leaves it."""

    def __init__(self, real: FileStore, failing: int) -> None:
        self.real, self.left = real, failing

    async def put(
        self, key: str, content: Any, content_type: str = "application/octet-stream"
    ) -> Any:
        self.left -= 1
        if self.left == 0:
            raise OSError("killed")
        return await self.real.put(key, content, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_run_that_stops_half_way_publishes_nothing_and_resumes_its_window(
    growth: Growth, clock: TestClock
) -> None:
    clock.set(NOON)
    for day in range(3):  # sessions on three local days: three partitions, three uploads
        clock.set(NOON + timedelta(days=day))
        seed(growth, growth.user(), consent=True)
    store = growth.exporter.store
    crashing = GrowthExporter(store, _FailingAfter(files_of(growth), 2), clock)  # type: ignore[arg-type]

    with pytest.raises(OSError, match="killed"):
        growth.call(crashing.run, ["focus_sessions"])

    assert not (growth.files / "growth/v1").exists() or not list(
        (growth.files / "growth/v1").rglob("*.parquet")
    )
    assert growth.call(store.watermark, "focus_sessions") == 0
    stopped = growth.call(store.writing, "focus_sessions")
    assert stopped is not None

    (resumed,) = growth.run(datasets=["focus_sessions"])

    assert resumed.resumed
    assert resumed.window == stopped.window
    assert resumed.rows == 3
    assert resumed.files == 3
    assert not list((growth.files / "growth/_staging").rglob("*.parquet"))
    assert growth.call(store.watermark, "focus_sessions") == stopped.window.upper


def files_of(growth: Growth) -> FileStore:
    return growth.exporter.files


def test_an_erased_person_leaves_the_next_run_and_compaction_removes_their_rows(
    growth: Growth, clock: TestClock, scratch_database: str
) -> None:
    clock.set(NOON)
    alice, bob = growth.user(), growth.user()
    seed(growth, alice, consent=True)
    seed(growth, bob, consent=True)
    growth.run()
    alice_p = pseudonym_of(scratch_database, alice.uid)
    erased = growth.client.delete("/v1/me", headers=alice.headers)
    assert erased.status_code == 202, erased.text
    growth.call(growth.container.task_worker.drain)
    assert put_usage(growth, bob, "2026-06-15").is_success

    after_erasure = {p.dataset: p for p in growth.run()}
    before_compaction = {r["pseudonym"] for r in rows(growth, "focus_sessions")}
    removed = growth.call(growth.exporter.compact)

    assert pseudonym_of(scratch_database, alice.uid) is None  # the secret is gone
    assert after_erasure["daily_usage"].rows == 1  # bob's new day only
    assert after_erasure["focus_sessions"].rows == 0
    assert alice_p in before_compaction
    assert removed["rows"] >= len(BY_NAME)
    for dataset in DATASETS:
        assert alice_p not in {r["pseudonym"] for r in rows(growth, dataset.name)}
    for manifest in published(growth):
        for entry in manifest["files"]:
            path = growth.files / entry["key"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            assert pq.read_metadata(path).num_rows == entry["rows"]
    assert growth.call(growth.exporter.store.forgotten) == []
    assert growth.call(growth.exporter.compact) == {"files": 0, "rows": 0}


def test_turning_analytics_consent_off_excludes_the_person_from_the_next_run(
    growth: Growth, clock: TestClock
) -> None:
    clock.set(NOON)
    alice = growth.user()
    seed(growth, alice, consent=True)
    growth.run()
    off = {"consents": {"analytics": False}}
    assert growth.client.patch("/v1/me", headers=alice.headers, json=off).status_code == 200
    assert put_usage(growth, alice, "2026-06-15").is_success

    after = {p.dataset: p for p in growth.run()}

    assert after["daily_usage"].rows == 0
    assert after["users"].rows == 0


def put_usage(growth: Growth, user: ApiUser, day: str) -> Any:
    body = {"installation_id": PHONE, "total_minutes": 30, "pickups": 5,
            "minutes_per_category": {}, "top_apps": []}  # fmt: skip
    return growth.client.put(f"/v1/usage/{day}", headers=user.headers, json=body)


def test_a_window_run_again_after_an_erasure_leaves_no_file_of_the_erased_person(
    growth: Growth, clock: TestClock, scratch_database: str
) -> None:
    alice, bob = growth.user(), growth.user()
    clock.set(NOON)
    seed(growth, alice, consent=True)
    clock.set(NOON + timedelta(days=1))
    seed(growth, bob, consent=True)
    (first,) = growth.run(datasets=["focus_sessions"])
    alice_p = pseudonym_of(scratch_database, alice.uid)
    assert growth.client.delete("/v1/me", headers=alice.headers).status_code == 202
    growth.call(growth.container.task_worker.drain)

    (again,) = growth.run(datasets=["focus_sessions"], since=first.window.lower,
                          until=first.window.upper)  # fmt: skip
    growth.call(growth.exporter.compact)

    assert (first.rows, again.rows) == (2, 1)
    assert alice_p not in {r["pseudonym"] for r in rows(growth, "focus_sessions")}
    assert [
        p.parent.name for p in (growth.files / "growth/v1/focus_sessions").rglob("*.parquet")
    ] == ["date=2026-06-16"]


def test_a_new_device_exports_the_persons_platforms_again(growth: Growth, clock: TestClock) -> None:
    clock.set(NOON)
    alice = growth.user()
    seed(growth, alice, consent=True)
    growth.run()
    tablet = {"platform": "android", "app_version": "4.2.0"}
    assert growth.client.put(
        "/v1/devices/tablet-0002", headers=alice.headers, json=tablet
    ).is_success

    after = {p.dataset: p for p in growth.run()}

    assert (after["users"].rows, after["devices"].rows) == (1, 1)
    latest = max(rows(growth, "users"), key=lambda r: r["change"])
    assert latest["platforms"] == ["android", "ios"]
