"""One HTTP/2 connection over TLS, many requests in flight on it (h2 on an asyncio protocol).

Thin on purpose (docs/adr/0008-apns-client.md). It honours the server's stream limit (APNs
allows one stream until it saw a valid token, and cuts to one after a rejection) and flow
control; it fails every pending request with `ConnectionLost` when the connection ends (close,
GOAWAY, protocol error), one request when its stream is reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from dataclasses import dataclass
from typing import cast

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error

# One write per turn of the event loop, or per this many requests: fewer TLS records and system
# calls, yet the server starts on the first ones (one per turn made both sides wait in turns).
_WRITE_EVERY = 16


class ConnectionLost(Exception):
    """No answer came: the connection or the stream ended first. Sending again is safe."""


class ConnectFailed(ConnectionLost):
    """The connection could not be opened (refused, TLS, no HTTP/2, timeout)."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


class _Stream:
    __slots__ = ("body", "future", "headers")

    def __init__(self, future: asyncio.Future[Response]) -> None:
        self.future = future
        self.headers: dict[bytes, bytes] = {}
        self.body = b""


class Http2Connection(asyncio.Protocol):
    """Open with `await Http2Connection.open(...)`; then `request()` from any number of tasks."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # The caller builds headers h2 accepts (lowercase names, no connection headers or
        # surrounding whitespace): checking them again cost more than the rest of a request.
        # Unchecked, `authorization` is HPACK-indexed: the JWT goes whole once per connection.
        config = H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self._h2 = H2Connection(config)
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, _Stream] = {}
        self._max_streams = 1  # until the server's SETTINGS say more
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._woken = 0  # slot waiters woken that have not taken their slot yet
        self._window_waiters: list[asyncio.Future[None]] = []
        self._lost: ConnectionLost | None = None
        self._unflushed, self._flush_pending = 0, False  # requests since the last write
        self._settled: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[None] = loop.create_future()

    @classmethod
    async def open(cls, host: str, port: int, ssl_context: ssl.SSLContext) -> Http2Connection:
        """Connects, then waits for the server's SETTINGS (its stream limit). Bound it with
        `asyncio.timeout`."""
        loop = asyncio.get_running_loop()
        connection: Http2Connection | None = None
        try:
            _, connection = await loop.create_connection(
                lambda: cls(loop), host, port, ssl=ssl_context, server_hostname=host
            )
            await connection._settled
        except (OSError, ConnectionLost) as exc:
            raise ConnectFailed(f"{host}:{port}: {exc!r}") from exc
        except BaseException:
            if connection is not None:
                connection.abort()
            raise
        return connection

    @property
    def usable(self) -> bool:
        """False once it ended or was told to go away: requests need a new connection."""
        return self._lost is None

    @property
    def closed(self) -> bool:
        return self._closed.done()

    async def request(self, headers: list[tuple[bytes, bytes]], body: bytes) -> Response:
        """Sends one request; raises `ConnectionLost` (send again). Bound it with
        `asyncio.timeout`: a cancelled request resets its stream, the connection stays."""
        if len(self._streams) >= self._max_streams or self._slot_waiters:
            await self._wait_for_slot()
        if self._lost is not None:
            raise self._lost
        h2 = self._h2
        stream_id = h2.get_next_available_stream_id()
        future: asyncio.Future[Response] = self._loop.create_future()
        self._streams[stream_id] = _Stream(future)
        try:
            h2.send_headers(stream_id, headers)
            while h2.local_flow_control_window(stream_id) < len(body):
                await self._wait_for_window()
                if future.done():  # reset or lost while waiting
                    return await future
            h2.send_data(stream_id, body, end_stream=True)
            self._unflushed += 1
            if self._unflushed >= _WRITE_EVERY:
                self._flush()
            elif not self._flush_pending:
                self._flush_pending = True
                self._loop.call_soon(self._flush)
            return await future
        except H2Error as exc:  # the connection closed under us between two steps
            self._fail(ConnectionLost(f"HTTP/2 state: {exc!r}"))
            raise self._lost or ConnectionLost() from exc
        except asyncio.CancelledError:
            self._abandon(stream_id, ErrorCodes.CANCEL)
            raise

    async def aclose(self) -> None:
        """Says GOAWAY, closes, and waits until the transport is gone (no unclosed sockets)."""
        if self._transport is not None and not self._transport.is_closing():
            if self._lost is None:
                self._h2.close_connection()
                self._flush()
            self._transport.close()
        self._fail(ConnectionLost("closed by us"))
        try:
            async with asyncio.timeout(5):
                await asyncio.shield(self._closed)
        except TimeoutError:
            self.abort()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
        self._fail(ConnectionLost("aborted"))

    # ---- waiting for room -------------------------------------------------------------------

    async def _wait_for_slot(self) -> None:
        while self._lost is None and len(self._streams) >= self._max_streams:
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._slot_waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._woken -= 1
                    self._wake_slot_waiters()
                raise
            self._woken -= 1

    def _wake_slot_waiters(self) -> None:
        free = self._max_streams - len(self._streams) - self._woken
        waiters = self._slot_waiters
        while waiters and (free > 0 or self._lost is not None):
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._woken += 1
                free -= 1

    async def _wait_for_window(self) -> None:
        self._flush()
        self._window_waiters.append(waiter := self._loop.create_future())
        await waiter

    def _wake_window_waiters(self) -> None:
        waiters, self._window_waiters = self._window_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # ---- streams ending ---------------------------------------------------------------------

    def _finish(self, stream_id: int) -> _Stream | None:
        stream = self._streams.pop(stream_id, None)
        if stream is not None and self._slot_waiters:
            self._wake_slot_waiters()
        return stream

    def _abandon(self, stream_id: int, code: ErrorCodes) -> _Stream | None:
        stream = self._finish(stream_id)
        if stream is not None and self._lost is None:
            with contextlib.suppress(H2Error):  # already closed on the server's side
                self._h2.reset_stream(stream_id, code)
            self._flush()
        return stream

    def _fail(self, lost: ConnectionLost) -> None:
        if self._lost is None:
            self._lost = lost
        streams, self._streams = self._streams, {}
        for stream in streams.values():
            if not stream.future.done():
                stream.future.set_exception(lost)
        self._wake_slot_waiters()
        self._wake_window_waiters()
        if not self._settled.done():
            self._settled.set_exception(lost)
            self._settled.exception()  # retrieved: `open` may have stopped waiting

    # ---- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self._transport = transport = cast(asyncio.Transport, transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            self._fail(ConnectionLost("the server did not agree to HTTP/2 (ALPN h2)"))
            transport.abort()
            return
        self._h2.initiate_connection()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionLost(f"connection closed: {exc!r}" if exc else "connection closed"))
        if not self._closed.done():
            self._closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            events = self._h2.receive_data(data)
        except H2Error as exc:
            self._flush()  # h2 queued a GOAWAY saying why
            self.abort()
            self._fail(ConnectionLost(f"HTTP/2 protocol error: {exc!r}"))
            return
        for event in events:
            if isinstance(event, ResponseReceived):
                if (stream := self._streams.get(event.stream_id)) is not None:
                    stream.headers = dict(event.headers or ())
            elif isinstance(event, DataReceived):
                if (stream := self._streams.get(event.stream_id)) is not None:
                    stream.body += event.data or b""
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                stream = self._finish(event.stream_id)
                if stream is not None and not stream.future.done():  # not cancelled meanwhile
                    status = int(stream.headers.get(b":status", b"0"))
                    stream.future.set_result(Response(status, stream.headers, stream.body))
            elif isinstance(event, StreamReset):
                stream = self._finish(event.stream_id)
                if stream is not None and not stream.future.done():
                    code = event.error_code
                    stream.future.set_exception(ConnectionLost(f"stream reset: {code!r}"))
            elif isinstance(event, RemoteSettingsChanged):
                self._settings_changed()
            elif isinstance(event, WindowUpdated):
                self._wake_window_waiters()
            elif isinstance(event, ConnectionTerminated):
                reason = (event.additional_data or b"").decode(errors="replace")
                self._fail(ConnectionLost(f"GOAWAY {event.error_code!r} {reason}".rstrip()))
                self._flush()
                if self._transport is not None:
                    self._transport.close()
                return
        self._flush()

    def _settings_changed(self) -> None:
        self._max_streams = self._h2.remote_settings.max_concurrent_streams
        if not self._settled.done():
            self._settled.set_result(None)
        self._wake_slot_waiters()
        self._wake_window_waiters()  # the initial window size may have grown

    def _flush(self) -> None:
        self._unflushed, self._flush_pending = 0, False
        data = self._h2.data_to_send()
        if data and self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)
