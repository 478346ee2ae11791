"""Per-request context that logs pick up (the request id, the trace), without passing it around."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)
"""The request's W3C `traceparent` as it arrived (Cloud Run sets one on every request): a log
line names the request's trace even when no span records it (app/tracing.py)."""
