"""A trace's W3C `traceparent` as events and tasks carry it (app/tracing.py).

Every layer hands a trace on (the outbox, the relay, the consumers, the task queues), so the
three conversions live here, on OpenTelemetry's API alone: without an SDK configured (tracing
off) every span is a no-op, no context is ever current, and these return None.
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.context import Context


def current_traceparent() -> str | None:
    """`00-<trace id>-<span id>-<flags>` of the current span; None outside a span."""
    return traceparent_of(trace.get_current_span())


def traceparent_of(span: trace.Span) -> str | None:
    """`span`'s traceparent; None for a no-op span."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def context_of(traceparent: str | None) -> Context | None:
    """The trace `traceparent` names, as a parent for a new span; None (a new trace) for none."""
    return None if traceparent is None else propagate.extract({"traceparent": traceparent})
