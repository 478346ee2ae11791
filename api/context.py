"""Per-request context that logs pick up (the request id), without passing it around."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
