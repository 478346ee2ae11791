"""`PushSender` for iOS: silent (background) pushes to APNs over HTTP/2 with token auth.

One connection per APNs host (production, sandbox; picked per push), opened on first use,
shared by every push in flight and opened again after it broke. A push whose connection broke
before the answer is sent once more on a new connection; a push refused for an expired provider
token is sent once more with a new token. Everything else APNs answers is returned, never raised.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from hpack import NeverIndexedHeaderTuple

from domain.common import utc_now
from domain.devices.model import ApnsEnvironment, Platform
from domain.push.model import MAX_PAYLOAD_BYTES, PushOutcome, PushResult, SilentPush
from notifications.apns.config import ApnsConfig
from notifications.apns.http2 import ConnectFailed, ConnectionLost, Http2Connection
from notifications.apns.provider_token import ProviderToken
from notifications.apns.responses import DELIVERED, EXPIRED_PROVIDER_TOKEN, reason_of, result_of

log = logging.getLogger("notifications.apns")

_APS = {"content-available": 1}  # a background push: no alert, sound or badge
_DEVICE_TOKEN = re.compile(r"[0-9a-fA-F]{64,200}")
_HEADER_BREAKERS = re.compile(rb"[\x00\r\n]")
_FIXED = [(b"apns-push-type", b"background"), (b"apns-priority", b"5")]  # 10 is refused
_AUTHORIZATION = 4  # where `send` puts it in the header list
SILENT_ANSWERS_BEFORE_RECONNECT = 3
"""Timeouts in a row with no answer in between: the connection died without a word (a NAT or
load balancer dropped it), so it is dropped and the next push opens a new one."""


class _Host:
    """The one connection to one APNs host, opened on first use and again once it broke."""

    def __init__(
        self, environment: ApnsEnvironment, url: str, ssl_context: ssl.SSLContext, timeout: float
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"an APNs URL is https://host[:port], not {url!r}")
        self.environment = environment
        self.host, self.port = parts.hostname, parts.port or 443
        self.authority = (self.host if self.port == 443 else f"{self.host}:{self.port}").encode()
        self._ssl_context, self._timeout = ssl_context, timeout
        self._connection: Http2Connection | None = None
        self._opening: asyncio.Task[Http2Connection] | None = None
        self._retired: list[Http2Connection] = []
        self._silent = 0

    def answered(self) -> None:
        self._silent = 0

    def timed_out(self, connection: Http2Connection | None) -> None:
        if connection is None or connection is not self._connection:
            return
        self._silent += 1
        if self._silent >= SILENT_ANSWERS_BEFORE_RECONNECT:
            log.warning(
                "notifications.apns.connection_silent",
                extra={"environment": self.environment.value, "timeouts": self._silent},
            )
            self._silent = 0
            connection.abort()

    async def connection(self) -> Http2Connection:
        connection = self._connection
        if connection is not None and connection.usable:
            return connection
        if self._opening is None:
            # Every push waiting now shares this one attempt, and its failure.
            self._opening = asyncio.ensure_future(self._open())
            self._opening.add_done_callback(_retrieve)
        return await asyncio.shield(self._opening)

    async def _open(self) -> Http2Connection:
        try:
            async with asyncio.timeout(self._timeout):
                connection = await Http2Connection.open(self.host, self.port, self._ssl_context)
        except TimeoutError as exc:
            raise ConnectFailed(f"{self.host}:{self.port}: no connection in time") from exc
        finally:
            self._opening = None
        if self._connection is not None:
            self._retired = [c for c in self._retired if not c.closed]
            self._retired.append(self._connection)
        self._connection = connection
        log.info("notifications.apns.connected", extra={"environment": self.environment.value})
        return connection

    async def aclose(self) -> None:
        if (opening := self._opening) is not None:
            opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        connections = [*self._retired, *([self._connection] if self._connection else [])]
        self._connection, self._retired = None, []
        await asyncio.gather(*(c.aclose() for c in connections))


def _retrieve(task: asyncio.Task[Http2Connection]) -> None:
    """Marks a failed connection attempt as seen when every push waiting for it was cancelled."""
    if not task.cancelled():
        task.exception()


class ApnsSender:
    """Silent pushes to APNs. `aclose()` when done: it closes the connections."""

    def __init__(self, config: ApnsConfig, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._token = ProviderToken(
            key_id=config.key_id,
            team_id=config.team_id,
            private_key_pem=config.private_key_pem,
            clock=clock,
            refresh_after=timedelta(seconds=config.provider_token_refresh_seconds),
        )
        context = ssl.create_default_context(
            cafile=str(config.ca_file) if config.ca_file is not None else None
        )
        context.set_alpn_protocols(["h2"])
        timeout = config.timeout_seconds
        self._hosts = {
            ApnsEnvironment.PRODUCTION: _Host(
                ApnsEnvironment.PRODUCTION, config.production_url, context, timeout
            ),
            ApnsEnvironment.SANDBOX: _Host(
                ApnsEnvironment.SANDBOX, config.sandbox_url, context, timeout
            ),
        }
        self._topic = config.topic.encode()
        self._timeout = timeout
        self._clock = clock
        self._closed = False

    async def send(self, push: SilentPush) -> PushResult:
        if push.platform is not Platform.IOS or push.apns_environment is None:
            raise ValueError("ApnsSender sends iOS pushes that know their APNs environment")
        if self._closed:
            raise RuntimeError("ApnsSender.send after aclose")
        if "aps" in push.data:
            raise ValueError("`aps` is APNs' own key; app data cannot use it")
        body = orjson.dumps({"aps": _APS, **push.data})
        if len(body) > MAX_PAYLOAD_BYTES:
            return self._report(push, PushResult(PushOutcome.REJECTED, "PayloadTooLarge"))
        collapse_id = push.collapse_id.encode()
        if len(collapse_id) > 64 or collapse_id != collapse_id.strip():
            return self._report(push, PushResult(PushOutcome.REJECTED, "BadCollapseId"))
        if _HEADER_BREAKERS.search(collapse_id):
            return self._report(push, PushResult(PushOutcome.REJECTED, "BadCollapseId"))
        if not _DEVICE_TOKEN.fullmatch(push.token):
            return self._report(push, PushResult(PushOutcome.BAD_TOKEN, "BadDeviceToken"))

        host = self._hosts[push.apns_environment]
        request = [
            (b":method", b"POST"),
            (b":scheme", b"https"),
            (b":authority", host.authority),
            # one path per device: kept out of the HPACK table the repeated fields share
            NeverIndexedHeaderTuple(b":path", b"/3/device/" + push.token.encode()),
            (b"authorization", self._token.authorization()),
            *_FIXED,
            (b"apns-topic", self._topic),
            (b"apns-expiration", b"%d" % max(0, int(push.expires_at.timestamp()))),
        ]
        if collapse_id:
            request.append((b"apns-collapse-id", collapse_id))
        return await self._exchange(push, host, request, body)

    async def _exchange(
        self, push: SilentPush, host: _Host, request: list[tuple[bytes, bytes]], body: bytes
    ) -> PushResult:
        resent_on_new_connection = resent_with_new_token = False
        while True:
            connection: Http2Connection | None = None
            try:
                async with asyncio.timeout(self._timeout):
                    connection = await host.connection()
                    response = await connection.request(request, body)
            except ConnectionLost as lost:
                if resent_on_new_connection or self._closed:
                    failed = (
                        "ConnectFailed" if isinstance(lost, ConnectFailed) else "ConnectionLost"
                    )
                    result = PushResult(PushOutcome.RETRY_LATER, failed)
                    return self._report(push, result, detail=str(lost))
                log.warning(
                    "notifications.apns.connection_lost",
                    extra={"environment": host.environment.value, "detail": str(lost)},
                )
                resent_on_new_connection = True
                continue
            except TimeoutError:
                host.timed_out(connection)
                return self._report(push, PushResult(PushOutcome.RETRY_LATER, "Timeout"))
            host.answered()
            if response.status == 200:
                if log.isEnabledFor(logging.DEBUG):
                    self._report(push, DELIVERED, apns_id=response.headers.get(b"apns-id"))
                return DELIVERED
            reason, timestamp_ms = reason_of(response.body)
            if reason == EXPIRED_PROVIDER_TOKEN and not resent_with_new_token:
                resent_with_new_token = True
                refused = request[_AUTHORIZATION][1]
                request[_AUTHORIZATION] = (b"authorization", self._token.renew(refused))
                log.info("notifications.apns.provider_token_expired")
                continue
            retry_after = response.headers.get(b"retry-after")
            result = result_of(response.status, reason, timestamp_ms, retry_after, self._clock)
            return self._report(push, result, apns_id=response.headers.get(b"apns-id"))

    async def aclose(self) -> None:
        self._closed = True
        await asyncio.gather(*(host.aclose() for host in self._hosts.values()))

    def _report(
        self,
        push: SilentPush,
        result: PushResult,
        *,
        apns_id: bytes | None = None,
        detail: str | None = None,
    ) -> PushResult:
        """Logs the outcome with the token's first characters only (a token is an address)."""
        extra: dict[str, Any] = {
            "token_prefix": push.token[:8],
            "environment": push.apns_environment.value if push.apns_environment else None,
            "status": result.status,
            "reason": result.reason,
        }
        if apns_id:
            extra["apns_id"] = apns_id.decode(errors="replace")
        if detail:
            extra["detail"] = detail
        match result.outcome:
            case PushOutcome.DELIVERED:
                log.debug("notifications.apns.delivered", extra=extra)
            case PushOutcome.UNREGISTERED:
                extra["unregistered_at"] = result.unregistered_at
                log.info("notifications.apns.token_unregistered", extra=extra)
            case PushOutcome.BAD_TOKEN:
                log.warning("notifications.apns.bad_token", extra=extra)
            case PushOutcome.RETRY_LATER:
                extra["retry_after_seconds"] = result.retry_after_seconds
                log.warning("notifications.apns.retry_later", extra=extra)
            case PushOutcome.REJECTED:
                log.error("notifications.apns.rejected", extra=extra)
        return result
