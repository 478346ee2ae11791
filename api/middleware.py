"""Plain ASGI middleware for what every API response shares.

Plain ASGI (not BaseHTTPMiddleware) keeps the hot path cheap and streaming intact.
"""

from __future__ import annotations

import re
import secrets
from email.utils import format_datetime
from functools import lru_cache

from packaging.version import InvalidVersion, Version
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import context
from api.config import ApiConfig, Deprecation
from api.problems import problem_response

_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,128}")  # fullmatch: no trailing newline
_VERSIONED = ("/v1/", "/v2/")
READ_HEADERS = frozenset(
    {b"x-request-id", b"traceparent", b"content-length", b"x-platform", b"x-app-version"}
)


def read_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """The request headers this middleware reads, in one pass (the first line of each name,
    as `Headers.get` gives it). ASGI servers hand header names over in lower case."""
    found: dict[bytes, str] = {}
    for name, value in raw:
        if name in READ_HEADERS and name not in found:
            found[name] = value.decode("latin-1")
    return found


class EdgeMiddleware:
    """Request ids, body size cap, client version gate, deprecation and cache headers."""

    def __init__(self, app: ASGIApp, config: ApiConfig) -> None:
        self.app = app
        self.config = config
        self._min_versions = {p: Version(v) for p, v in config.min_app_versions.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = read_headers(scope["headers"])
        given = headers.get(b"x-request-id", "")
        # 32 hex digits, as a UUID's hex would be, for a fifth of the cost of uuid4().
        request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
        context.request_id.set(request_id)
        context.traceparent.set(headers.get(b"traceparent"))
        path: str = scope["path"]
        versioned = path.startswith(_VERSIONED)

        early = self._refuse_early(headers, versioned)
        if early is not None:
            early.headers["X-Request-Id"] = request_id
            await early(scope, receive, send)
            return

        extra = self._extra_headers(scope["method"], path, versioned)
        extra.append((b"x-request-id", request_id.encode("latin-1")))
        refused = False

        async def send_with_headers(message: Message) -> None:
            if refused:
                return  # the 413 already went out; whatever the app says after is dropped
            if message["type"] == "http.response.start":
                out = list(message.get("headers", ()))
                present = {name.lower() for name, _ in out}
                out += [(name, value) for name, value in extra if name not in present]
                message["headers"] = out
            await send(message)

        limit = self.config.max_body_bytes
        seen = 0

        async def capped_receive() -> Message:
            # A body sent without Content-Length (chunked) is counted as it arrives: past the
            # cap we answer 413 ourselves and tell the app the client has gone.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit:
                    await send_with_headers_now(self._too_large())
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def send_with_headers_now(response: Response) -> None:
            await response(scope, receive, send_with_headers)

        await self.app(scope, capped_receive, send_with_headers)

    def _refuse_early(self, headers: dict[bytes, str], versioned: bool) -> Response | None:
        length = headers.get(b"content-length")
        if length is not None and (
            not length.isdigit() or int(length) > self.config.max_body_bytes
        ):
            return self._too_large()
        if versioned:
            return self._check_app_version(headers)
        return None

    def _too_large(self) -> Response:
        return problem_response(
            413,
            "payload_too_large",
            "Request body too large",
            f"at most {self.config.max_body_bytes} bytes",
        )

    def _check_app_version(self, headers: dict[bytes, str]) -> Response | None:
        platform = headers.get(b"x-platform", "").lower()
        raw = headers.get(b"x-app-version")
        minimum = self._min_versions.get(platform)
        if minimum is None or raw is None:
            return None
        try:
            too_old = _version(raw) < minimum
        except InvalidVersion:
            return problem_response(
                400,
                "invalid_app_version",
                "X-App-Version is not a version number",
                "send the app's version, e.g. 4.2.0",
            )
        if not too_old:
            return None
        return problem_response(
            426,
            "upgrade_required",
            "This app version is no longer supported",
            f"update the app to {minimum} or later",
            upgrade_url=self.config.upgrade_urls.get(platform),
            min_version=str(minimum),
            headers={"Upgrade": "app", "Connection": "Upgrade"},
        )

    def _extra_headers(self, method: str, path: str, versioned: bool) -> list[tuple[bytes, bytes]]:
        """Headers every answer to this request carries, unless the app set them itself."""
        extra: list[tuple[bytes, bytes]] = []
        if versioned:
            # Personal data: no shared or private cache may keep it.
            extra.append((b"cache-control", b"no-store"))
        rule = _matching(self.config.deprecations, method, path)
        if rule is not None:
            extra += [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in deprecation_headers(rule).items()
            ]
        return extra


@lru_cache(maxsize=1024)
def _version(raw: str) -> Version:
    """`X-App-Version` parsed once per distinct value (a handful of releases are out at a
    time; parsing costs a read about 1 % of its CPU). A client sending made-up versions only
    evicts entries: the cache stays bounded."""
    return Version(raw)


def _matching(rules: tuple[Deprecation, ...], method: str, path: str) -> Deprecation | None:
    for rule in rules:
        if path.startswith(rule.path_prefix) and rule.method in (None, method):
            return rule
    return None


def deprecation_headers(rule: Deprecation) -> dict[str, str]:
    """`Deprecation: @<unix seconds>` (RFC 9745), `Sunset: <HTTP-date>` (RFC 8594)."""
    headers = {"Deprecation": f"@{int(rule.deprecated_at.timestamp())}"}
    if rule.sunset_at is not None:
        headers["Sunset"] = format_datetime(rule.sunset_at, usegmt=True)
    if rule.link is not None:
        headers["Link"] = f'<{rule.link}>; rel="deprecation"; type="text/html"'
    return headers
