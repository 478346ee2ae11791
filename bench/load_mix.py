"""The load generator of `load.py`: simulated app users sending the mobile mix, open loop.

Its own process (`load.py` starts it), one JSON step per line on stdin, one JSON result per
line on stdout: `{"mix": "mix" | "me", "rate": r, "duration": s, "timeout": t}` sends `r`
requests a second for `s` seconds at fixed intervals whatever the answers do, then waits for
every answer (each given up `t` seconds after its intended send time). A request's latency runs
from its intended send time, so that waiting for a connection or behind the server's queue
counts (no coordinated omission). Raw HTTP/1.1 keep-alive on uvloop, at most `connections`
requests in flight.

Each user writes one thing at a time and keeps its state: its sync cursor, its running focus
session, its schedule's ETag, a POST whose answer was lost (sent again with the same
Idempotency-Key before anything else). A retry is a POST already answered, sent again: its
answer must be the first one, byte for byte.

    .venv/bin/python bench/load_mix.py <users.json> <port> <connections>
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MIX = {"me": 4, "list": 4, "stats": 4, "sync": 4, "session": 2, "schedule": 1, "retry": 1}
"""Requests per 20 arrivals, shuffled within each 20: every operation in every 20 requests."""
BASELINE = {"me": 20}
"""The baseline ladder's: `GET /v1/me` alone, the cheapest authenticated read."""
IDLE_S = 4.0
"""A kept-alive connection idle longer is replaced: uvicorn closes them after 5 s."""


def pct(values: list[int], q: float) -> float:
    """The q-quantile of microseconds, in ms (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


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


if __name__ == "__main__":
    users_file, port, connections = sys.argv[1:4]
    load_generator(users_file, int(port), int(connections))
