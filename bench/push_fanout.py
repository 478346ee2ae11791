"""Silent pushes through our APNs sender against a raw HTTP/2 client, to the same loopback APNs.

Both send the same requests (same device tokens, headers, JSON bodies, provider-token key) with
the same concurrency over one HTTP/2 connection to tests/support/fake_apns.py, which runs in its
own process so that its CPU does not compete with the client's event loop. Ours is
`notifications.apns.ApnsSender.send(SilentPush)`; raw is the least a correct client does: h2 on
an asyncio protocol with header lists and bodies built before the clock starts. `--httpx` adds
httpx's HTTP/2 client (prebuilt headers), for the record. Rounds alternate the order after a
warm-up. Last line: ours/raw pushes per second.

    .venv/bin/python bench/push_fanout.py [--pushes 20000] [--concurrency 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPIC = "com.example.focus"


# ---- the fake APNs (its own process) -----------------------------------------------------------


def serve_fake(credentials_file: str, loop: str) -> None:
    """Runs the fake until stdin closes; prints its port and CA file first."""
    from tests.support.fake_apns import ApnsCredentials, FakeApns

    creds = ApnsCredentials(**json.loads(Path(credentials_file).read_text()))
    factory = asyncio.new_event_loop
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with FakeApns(creds, record_requests=False, loop_factory=factory) as fake:
        print(json.dumps({"port": fake.port, "ca_file": str(fake.ca_file)}), flush=True)
        sys.stdin.read()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the workload --------------------------------------------------------------------------------


def workload(n: int, tokens: int) -> list[Any]:
    from domain.devices.model import ApnsEnvironment, Platform
    from domain.push.model import SilentPush

    expires = datetime.now(UTC) + timedelta(hours=1)
    return [
        SilentPush(
            token=f"{i % tokens:064x}",
            platform=Platform.IOS,
            apns_environment=ApnsEnvironment.PRODUCTION,
            collapse_id="sync",
            data={"kind": "sync", "version": str(i)},
            expires_at=expires,
        )
        for i in range(n)
    ]


async def fan_out(count: int, concurrency: int, send: Callable[[int], Awaitable[bool]]) -> int:
    """`concurrency` workers share the pushes; returns how many were not accepted."""
    next_index, failures = 0, 0

    async def worker() -> None:
        nonlocal next_index, failures
        while next_index < count:
            i, next_index = next_index, next_index + 1
            if not await send(i):
                failures += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


async def run_ours(fake: dict[str, Any], creds: Any, pushes: list[Any], concurrency: int) -> Any:
    from domain.push.model import PushOutcome
    from notifications.apns import ApnsConfig, ApnsSender

    config = ApnsConfig(
        creds.key_id,
        creds.team_id,
        creds.topic,
        creds.private_key_pem,
        production_url=f"https://127.0.0.1:{fake['port']}",
        ca_file=fake["ca_file"],
    )
    sender = ApnsSender(config)
    delivered = PushOutcome.DELIVERED

    async def send(i: int) -> bool:
        return (await sender.send(pushes[i])).outcome is delivered

    try:
        return await measured(send, len(pushes), concurrency)
    finally:
        await sender.aclose()


def raw_requests(
    fake: dict[str, Any], creds: Any, pushes: list[Any]
) -> tuple[list[Any], list[bytes]]:
    """Exactly what our sender puts on the wire, built ahead of time."""
    import jwt
    import orjson
    from hpack import NeverIndexedHeaderTuple

    token = jwt.encode(
        {"iss": creds.team_id, "iat": int(time.time())},
        creds.private_key_pem,
        algorithm="ES256",
        headers={"kid": creds.key_id, "typ": None},
    )
    authority = f"127.0.0.1:{fake['port']}".encode()
    headers = [
        [
            (b":method", b"POST"),
            (b":scheme", b"https"),
            (b":authority", authority),
            NeverIndexedHeaderTuple(b":path", b"/3/device/" + p.token.encode()),
            (b"authorization", b"bearer " + token.encode()),
            (b"apns-push-type", b"background"),
            (b"apns-priority", b"5"),
            (b"apns-topic", creds.topic.encode()),
            (b"apns-expiration", b"%d" % int(p.expires_at.timestamp())),
            (b"apns-collapse-id", p.collapse_id.encode()),
        ]
        for p in pushes
    ]
    bodies = [orjson.dumps({"aps": {"content-available": 1}, **p.data}) for p in pushes]
    return headers, bodies


async def run_raw(fake: dict[str, Any], creds: Any, pushes: list[Any], concurrency: int) -> Any:
    headers, bodies = raw_requests(fake, creds, pushes)
    client = await RawH2.connect("127.0.0.1", fake["port"], fake["ca_file"])

    async def send(i: int) -> bool:
        return await client.post(headers[i], bodies[i]) == 200

    try:
        return await measured(send, len(pushes), concurrency)
    finally:
        await client.aclose()


async def run_httpx(fake: dict[str, Any], creds: Any, pushes: list[Any], concurrency: int) -> Any:
    import ssl

    import httpx

    headers, bodies = raw_requests(fake, creds, pushes)
    plain = [{k.decode(): v.decode() for k, v in h if not k.startswith(b":")} for h in headers]
    urls = [f"https://127.0.0.1:{fake['port']}{dict(h)[b':path'].decode()}" for h in headers]
    context = ssl.create_default_context(cafile=fake["ca_file"])
    async with httpx.AsyncClient(http2=True, verify=context) as client:

        async def send(i: int) -> bool:
            response = await client.post(urls[i], content=bodies[i], headers=plain[i])
            return response.status_code == 200

        return await measured(send, len(pushes), concurrency)


async def measured(send: Callable[[int], Awaitable[bool]], count: int, concurrency: int) -> Any:
    """The first push (connect, and APNs' one stream until a token is accepted) is not timed."""
    await send(0)
    cpu, began = time.process_time(), time.perf_counter()
    failures = await fan_out(count - 1, concurrency, lambda i: send(i + 1))
    return {
        "elapsed": time.perf_counter() - began,
        "cpu": time.process_time() - cpu,
        "count": count - 1,
        "failures": failures,
    }


# ---- the raw client --------------------------------------------------------------------------


class RawH2(asyncio.Protocol):
    """One HTTP/2 connection and nothing else: no token cache, retries, limits or mapping.
    Correct only while the concurrency stays under the server's stream limit (1000 here)."""

    def __init__(self) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        loop = asyncio.get_running_loop()
        # the HTTP/2 settings ours uses: the same wire (HPACK indexing) and header work
        config = H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2 = H2Connection(config)
        self.pending: dict[int, list[Any]] = {}
        self.window_waiters: list[asyncio.Future[None]] = []
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: Any = None

    @classmethod
    async def connect(cls, host: str, port: int, ca_file: str) -> RawH2:
        import ssl

        context = ssl.create_default_context(cafile=ca_file)
        context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(cls, host, port, ssl=context, server_hostname=host)
        await client.ready
        return client

    async def post(self, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
        h2 = self.h2
        stream_id = h2.get_next_available_stream_id()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.pending[stream_id] = [future, 0]
        h2.send_headers(stream_id, headers)
        while h2.local_flow_control_window(stream_id) < len(body):
            self.transport.write(h2.data_to_send())
            waiter = asyncio.get_running_loop().create_future()
            self.window_waiters.append(waiter)
            await waiter
        h2.send_data(stream_id, body, end_stream=True)
        self.transport.write(h2.data_to_send())
        return await future

    async def aclose(self) -> None:
        self.h2.close_connection()
        self.transport.write(self.h2.data_to_send())
        self.transport.close()
        await self.closed

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        from h2.events import (
            DataReceived,
            RemoteSettingsChanged,
            ResponseReceived,
            StreamEnded,
            StreamReset,
            WindowUpdated,
        )

        for event in self.h2.receive_data(data):
            if isinstance(event, ResponseReceived):
                self.pending[event.stream_id][1] = int(dict(event.headers)[b":status"])
            elif isinstance(event, DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                future, status = self.pending.pop(event.stream_id)
                future.set_result(status)
            elif isinstance(event, StreamReset):
                self.pending.pop(event.stream_id)[0].set_result(0)
            elif isinstance(event, RemoteSettingsChanged) and not self.ready.done():
                self.ready.set_result(None)
            elif isinstance(event, WindowUpdated):
                waiters, self.window_waiters = self.window_waiters, []
                for waiter in waiters:
                    waiter.set_result(None)
        if data := self.h2.data_to_send():
            self.transport.write(data)


# ---- the run -----------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[..., Coroutine[Any, Any, Any]]] = {
    "ours": run_ours,
    "raw": run_raw,
    "httpx": run_httpx,
}


def run_once(loop: str, runner: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    if loop == "uvloop":
        import uvloop

        return uvloop.run(runner())
    return asyncio.run(runner())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=20_000, help="pushes per measured run")
    parser.add_argument("--concurrency", type=int, default=100, help="pushes in flight")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per client (≥ 3)")
    parser.add_argument("--warmup", type=int, default=3_000, help="pushes per warm-up run")
    parser.add_argument("--tokens", type=int, default=1_000, help="distinct device tokens")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--httpx", action="store_true", help="also measure httpx (slow)")
    args = parser.parse_args()
    args.rounds = max(3, args.rounds)

    from tests.support.fake_apns import ApnsCredentials

    creds = ApnsCredentials.generate(TOPIC)
    clients = ["ours", "raw", *(["httpx"] if args.httpx else [])]
    pushes = workload(args.pushes + 1, args.tokens)
    warm = pushes[: args.warmup + 1]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in clients}
    with tempfile.TemporaryDirectory() as tmp:
        creds_file = Path(tmp) / "credentials.json"
        creds_file.write_text(json.dumps(asdict(creds)))
        command = [sys.executable, __file__, "_fake", str(creds_file), args.loop]
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        ) as fake_process:
            assert fake_process.stdout is not None
            fake = json.loads(fake_process.stdout.readline())
            for name in clients:
                run_once(args.loop, partial(RUNNERS[name], fake, creds, warm, args.concurrency))
            for r in range(args.rounds):
                for name in clients if r % 2 == 0 else clients[::-1]:
                    before = cpu_seconds(fake_process.pid)
                    runner = partial(RUNNERS[name], fake, creds, pushes, args.concurrency)
                    run = run_once(args.loop, runner)
                    run["fake_cpu"] = cpu_seconds(fake_process.pid) - before
                    results[name].append(run)
            assert fake_process.stdin is not None
            fake_process.stdin.close()  # the fake stops
    report(args, results)


def report(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]]) -> None:
    print(
        f"push_fanout: {args.pushes} pushes per run, {args.concurrency} in flight on one HTTP/2 "
        f"connection, {args.rounds} alternating rounds after a {args.warmup}-push warm-up, "
        f"{args.tokens} device tokens, {args.loop}, fake APNs in its own process"
    )
    print(
        f"{'client':6} {'pushes/s':>9} {'client CPU µs/push':>18} {'fake CPU µs/push':>16} "
        f"{'client CPU %':>12} {'failures':>8}"
    )
    rate: dict[str, float] = {}
    for name, runs in results.items():
        count, elapsed = sum(r["count"] for r in runs), sum(r["elapsed"] for r in runs)
        rate[name] = count / elapsed
        print(
            f"{name:6} {rate[name]:9.0f} {sum(r['cpu'] for r in runs) / count * 1e6:18.0f} "
            f"{sum(r['fake_cpu'] for r in runs) / count * 1e6:16.0f} "
            f"{100 * sum(r['cpu'] for r in runs) / elapsed:12.0f} "
            f"{sum(r['failures'] for r in runs):8}"
        )
    per_round = [
        (o["count"] / o["elapsed"]) / (b["count"] / b["elapsed"])
        for o, b in zip(results["ours"], results["raw"], strict=True)
    ]
    rounds = " ".join(f"{x:.2f}" for x in per_round)
    ratio = rate["ours"] / rate["raw"]
    print(
        f"ours/raw throughput {ratio:.2f} (rounds: {rounds}; median "
        f"{statistics.median(per_round):.2f})"
    )
    if "httpx" in rate:
        print(f"ours/httpx throughput {rate['ours'] / rate['httpx']:.2f}")
    print(f"RESULT push_fanout ratio={ratio:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["_fake"]:
        serve_fake(sys.argv[2], sys.argv[3])
    else:
        main()
