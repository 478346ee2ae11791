"""A loopback APNs: HTTP/2 over TLS on 127.0.0.1 that answers as Apple documents (rules in
tests/support/apns_rules.py), and misbehaves on cue (close mid-stream, GOAWAY, reset, silence).

Pytest: `pytest_plugins = ["tests.support.fake_apns"]`, then ask for `fake_apns` (and the
`apns_credentials` it verifies provider tokens with). Elsewhere, `with FakeApns(creds) as fake:`
runs it in a thread with its own event loop; `fake.url` and `fake.ca_file` point a client at it.
Like APNs, it allows one stream until it saw a valid provider token, and one stream after a
rejection until a push is accepted again.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import DataReceived, RequestReceived, StreamEnded, StreamReset, WindowUpdated
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes, Settings

from tests.support.apns_rules import (
    ApnsCredentials,
    Failure,
    ProviderTokenCheck,
    ReceivedRequest,
    Reply,
    judge,
)
from tests.support.loopback_tls import LoopbackCertificates

__all__ = ["ApnsCredentials", "Failure", "FakeApns", "ReceivedRequest", "Reply"]
__all__ += ["apns_credentials", "fake_apns"]


class FakeApns:
    """The server; scripts and records are safe to touch from the test's thread."""

    def __init__(
        self,
        credentials: ApnsCredentials,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        token_max_age: timedelta = timedelta(hours=1),
        max_concurrent_streams: int = 1000,
        record_requests: bool = True,
        certificates: LoopbackCertificates | None = None,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.max_concurrent_streams = max_concurrent_streams
        self.record_requests = record_requests
        self._loop_factory = loop_factory
        self.tokens = ProviderTokenCheck(credentials, clock, token_max_age)
        self._lock = threading.Lock()
        self._next: deque[Reply] = deque()
        self._per_token: dict[str, Reply] = {}
        self._requests: list[ReceivedRequest] = []
        self.connections_opened = 0
        self._live: set[_ServerConnection] = set()
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-apns-")
        # Share another fake's to be trusted by the same client (APNs' hosts share a CA).
        self.certificates = certificates or LoopbackCertificates.create(Path(self._tmp.name))
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None

    # ---- the test's side ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.certificates.ca_file

    def respond_next(self, *replies: Reply) -> None:
        """Answer the next requests (whatever their token) with these, in order."""
        with self._lock:
            self._next.extend(replies)

    def respond_to(self, device_token: str, reply: Reply) -> None:
        """Answer every request for this device token with `reply`."""
        with self._lock:
            self._per_token[device_token] = reply

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def open_connections(self) -> int:
        return len(self._live)

    def __enter__(self) -> FakeApns:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self._thread.start()
        if not started.wait(10) or not self.port:
            raise RuntimeError("the fake APNs did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)
        self._tmp.cleanup()

    # ---- the server's side (its own thread and loop) ------------------------------------------

    def _serve(self, started: threading.Event) -> None:
        loop = self._loop = self._loop_factory()
        try:
            loop.run_until_complete(self._run(started))
        finally:
            loop.close()

    async def _run(self, started: threading.Event) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.get_running_loop().create_server(
            lambda: _ServerConnection(self),
            "127.0.0.1",
            0,
            ssl=self.certificates.server_context(),
        )
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        await self._stopped.wait()
        server.close()
        for connection in list(self._live):
            connection.abort()
        for _ in range(100):  # let every aborted transport finish closing before the loop does
            if not self._live:
                break
            await asyncio.sleep(0.01)
        await server.wait_closed()

    def _script_for(self, device_token: str) -> Reply | None:
        with self._lock:
            if device_token in self._per_token:
                return self._per_token[device_token]
            return self._next.popleft() if self._next else None

    def _record(self, request: ReceivedRequest) -> None:
        if self.record_requests:
            with self._lock:
                self._requests.append(request)


class _ServerConnection(asyncio.Protocol):
    def __init__(self, fake: FakeApns) -> None:
        self.fake, self.number = fake, 0
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        # APNs: "allows only one stream until you post a request with a valid token"
        self.h2.local_settings = Settings(
            client=False, initial_values={SettingCodes.MAX_CONCURRENT_STREAMS: 1}
        )
        self.streams: dict[int, tuple[dict[bytes, bytes], bytearray]] = {}
        self.throttled = True
        self.blocked: deque[tuple[int, bytes]] = deque()  # error bodies awaiting flow control
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self.transport = cast(asyncio.Transport, transport)
        self.fake.connections_opened += 1
        self.number = self.fake.connections_opened
        self.fake._live.add(self)
        self.h2.initiate_connection()
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.fake._live.discard(self)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def flush(self) -> None:
        if self.transport is not None and (data := self.h2.data_to_send()):
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except ProtocolError:  # e.g. more streams than allowed: h2 queued a GOAWAY
            self.flush()
            self.abort()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self.streams[event.stream_id] = (dict(event.headers or ()), bytearray())
            elif isinstance(event, DataReceived):
                if event.stream_id in self.streams:
                    self.streams[event.stream_id][1].extend(event.data or b"")
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded) and event.stream_id in self.streams:
                if not self.answer(event.stream_id, *self.streams.pop(event.stream_id)):
                    return
            elif isinstance(event, StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, WindowUpdated):
                self.send_blocked()
        self.flush()

    def answer(self, stream_id: int, headers: dict[bytes, bytes], body: bytearray) -> bool:
        """Answers one request; False when it closed the connection instead."""
        fake, path = self.fake, headers.get(b":path", b"").decode()
        fake._record(ReceivedRequest.of(self.number, headers, bytes(body)))
        script = fake._script_for(path.rsplit("/", 1)[-1])
        if script is not None and script.failure is not None:
            return self.misbehave(stream_id, script.failure)
        refused = fake.tokens.refusal(headers.get(b"authorization"))
        if refused is not None:
            reply = Reply(403, refused)
        elif script is not None:
            reply = script
        else:
            reply = Reply(*judge(headers, bytes(body), fake.credentials.topic))
        self.respond(stream_id, headers.get(b"apns-id"), reply)
        self.throttle(accepted=reply.status == 200)
        return True

    def respond(self, stream_id: int, apns_id: bytes | None, reply: Reply) -> None:
        headers, body = reply.http(apns_id, self.fake.clock)
        self.h2.send_headers(stream_id, headers, end_stream=body is None)
        if body is not None:
            self.blocked.append((stream_id, body))
            self.send_blocked()

    def send_blocked(self) -> None:
        """Error bodies wait, as on APNs, while the client has not acknowledged earlier ones."""
        while self.blocked:
            stream_id, payload = self.blocked[0]
            if self.h2.local_flow_control_window(stream_id) < len(payload):
                return
            self.blocked.popleft()
            self.h2.send_data(stream_id, payload, end_stream=True)

    def throttle(self, *, accepted: bool) -> None:
        """APNs cuts a connection to one stream after a rejection, restores it on an accept."""
        if accepted == self.throttled:
            self.throttled = not accepted
            limit = self.fake.max_concurrent_streams if accepted else 1
            self.h2.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: limit})

    def misbehave(self, stream_id: int, failure: Failure) -> bool:
        if failure is Failure.SILENCE:
            return True
        if failure is Failure.RESET:
            self.h2.reset_stream(stream_id, ErrorCodes.REFUSED_STREAM)
            return True
        if failure is Failure.GOAWAY:
            self.h2.close_connection(
                ErrorCodes.NO_ERROR, b'{"reason":"Shutdown"}', last_stream_id=max(0, stream_id - 2)
            )
            self.flush()
        self.abort()
        return False


@pytest.fixture(scope="session")
def apns_credentials() -> ApnsCredentials:
    return ApnsCredentials.generate()


@pytest.fixture
def fake_apns(
    apns_credentials: ApnsCredentials, clock: Callable[[], datetime]
) -> Iterator[FakeApns]:
    """A fresh fake APNs on the tests' clock (the `clock` fixture of tests/conftest.py)."""
    with FakeApns(apns_credentials, clock=clock) as fake:
        yield fake
