"""Traces (OpenTelemetry): a change on the phone, its event and its pushes as one trace.

A request's server span (FastAPI's own telemetry, api/app.py) holds its SQL statements and
its calls out (httpx, gRPC); the event it writes keeps the request's W3C `traceparent` on its
outbox row; the relay publishes each event in a span of that trace and hands the span's context
on (a Pub/Sub attribute, or the in-process consumer directly); a consumer's span continues it,
and so do the tasks it schedules (a column of the Postgres queue, a header of Cloud Tasks) and
the pushes it sends.
docs/adr/0023-tracing.md says why it is built this way.

- `FOCUS_TRACING`: `off` (the embedded default), `console` (JSON on stderr), `cloud` (Cloud
  Trace, the project's).
- `FOCUS_TRACE_SAMPLE_RATIO`: the share of traces kept. Every process decides by the trace id
  alone (a remote parent's flag is not trusted: a client could ask for every request to be
  recorded), so a trace is kept whole in the API, the relay, the consumers and the workers.

No personal data leaves in a span: what is exported passes `PrivateSpans`, which keeps only
attributes on a list (route templates, methods, status codes, SQL with its placeholders, RPC
names, our own `focus.*` fields) and exceptions by type, never their messages.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Self

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status
from psycopg import AsyncCursor

from api import context
from app.settings import Settings, TracingMode

log = logging.getLogger("app.tracing")

KEPT_ATTRIBUTES = frozenset(
    {
        # HTTP, server and client: the route template, never the path or the query
        "http.route",
        "http.request.method",
        "http.method",
        "http.response.status_code",
        "http.status_code",
        "url.scheme",
        "http.scheme",
        "network.protocol.version",
        "http.flavor",
        "server.address",
        "server.port",
        # SQL (our psycopg cursor, traced_cursor): the statement as sent, values as placeholders
        "db.system",
        "db.namespace",
        "db.statement",
        # gRPC (Firestore, Pub/Sub, Cloud Tasks)
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "rpc.grpc.status_code",
        # messaging (our publish and consume spans)
        "messaging.destination.name",
        "messaging.message.id",
        # exceptions, by type only
        "exception.type",
        "exception.escaped",
    }
)
"""Span and span-event attributes that are exported; any other is dropped (client address,
user agent, full URL, query, exception message and stack trace, …), besides our own `focus.*`
attributes, which name only types, kinds, outcomes and counts."""
OURS = "focus."


class PrivateSpans(SpanExporter):
    """Exports spans with only the attributes of `KEPT_ATTRIBUTES` (and `focus.*`), events by
    name with those attributes, and an error status without its description."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([_private(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def kept(attributes: Any) -> dict[str, Any]:
    return {
        key: value
        for key, value in (attributes or {}).items()
        if key in KEPT_ATTRIBUTES or key.startswith(OURS)
    }


def _private(span: ReadableSpan) -> ReadableSpan:
    events = [Event(e.name, kept(e.attributes), e.timestamp) for e in span.events]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=kept(span.attributes),
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def sampler(ratio: float) -> ParentBased:
    """Keeps `ratio` of traces by trace id, whatever a remote parent says; a local parent's
    decision holds for its children."""
    by_id = TraceIdRatioBased(ratio)
    return ParentBased(root=by_id, remote_parent_sampled=by_id, remote_parent_not_sampled=by_id)


def provider(settings: Settings, exporter: SpanExporter) -> TracerProvider:
    """A provider sampling as `settings` say, exporting privately through `exporter`."""
    service = os.environ.get("K_SERVICE", "focus")  # Cloud Run names its service
    traced = TracerProvider(
        sampler=sampler(settings.trace_sample_ratio),
        resource=Resource.create({"service.name": service}),
    )
    traced.add_span_processor(BatchSpanProcessor(PrivateSpans(exporter)))
    return traced


def exporter_for(settings: Settings) -> SpanExporter | None:
    match settings.tracing:
        case TracingMode.OFF:
            return None
        case TracingMode.CONSOLE:
            return ConsoleSpanExporter(out=sys.stderr)
        case TracingMode.CLOUD:
            # Imported only here: Cloud Trace's client is production's alone.
            from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

            return CloudTraceSpanExporter(project_id=settings.firebase_project_id)  # type: ignore[no-untyped-call]


def traced_cursor(tracer: trace.Tracer) -> type[AsyncCursor[Any]]:
    """psycopg's cursor, each statement a client span named by its first word inside a
    recording span (its SQL as sent: values are bound, placeholders only); outside one, one
    check and psycopg's own `execute`.

    At the driver rather than on SQLAlchemy's cursor events: an engine with any event listener
    takes SQLAlchemy's event path on every connect, begin, execute and rollback, traced or not,
    which cost a read 5 % of its CPU (bench/README.md, "Tracing's floor")."""

    class TracedCursor(AsyncCursor[Any]):
        async def execute(self, query: Any, params: Any = None, **options: Any) -> Self:
            if not trace.get_current_span().is_recording():
                return await super().execute(query, params, **options)
            with _statement_span(tracer, self.connection, query):
                return await super().execute(query, params, **options)

        async def executemany(self, query: Any, params_seq: Any, **options: Any) -> None:
            if not trace.get_current_span().is_recording():
                return await super().executemany(query, params_seq, **options)
            with _statement_span(tracer, self.connection, query):
                return await super().executemany(query, params_seq, **options)

    return TracedCursor


@contextmanager
def _statement_span(tracer: trace.Tracer, connection: Any, query: Any) -> Iterator[None]:
    statement = query if isinstance(query, str) else str(query)
    words = statement.split(None, 1)
    if not words or words[0] == ";":  # the pool's ping of a connection: not our work
        yield
        return
    span = tracer.start_span(
        words[0].upper(),
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": "postgresql",
            "db.namespace": connection.info.dbname,
            "db.statement": statement,
        },
    )
    try:
        yield
    except BaseException as error:
        span.record_exception(error)
        span.set_status(trace.StatusCode.ERROR)
        raise
    finally:
        span.end()


@dataclass
class Tracing:
    """This process's tracer provider and what it instruments; `close` flushes and undoes."""

    provider: TracerProvider
    ratio: float = 1.0
    """The share of traces kept (FOCUS_TRACE_SAMPLE_RATIO), as `sampler` keeps them."""
    _instrumented: list[Any] = field(default_factory=list)

    def cursor_factory(self) -> type[AsyncCursor[Any]]:
        """The engine's cursors (`create_engine(cursor_factory=...)`): each statement of a kept
        trace a client span. Our own, not opentelemetry-instrumentation-sqlalchemy: that one
        declares SQLAlchemy < 2.1, adds a span per connection checkout, and parses every
        statement and connection for attributes before its span learns the trace is not kept
        (bench/api_read.py counted it in every read)."""
        return traced_cursor(self.provider.get_tracer(__name__))

    def instrument_clients(self) -> None:
        """httpx (FCM, Vertex AI, Google's tokens) and gRPC (Firestore, Pub/Sub, Cloud Tasks)."""
        from opentelemetry.instrumentation.grpc import (
            GrpcAioInstrumentorClient,
            GrpcInstrumentorClient,
        )
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        clients: tuple[Any, ...] = (
            HTTPXClientInstrumentor(),
            GrpcInstrumentorClient(),  # type: ignore[no-untyped-call]
            GrpcAioInstrumentorClient(),  # type: ignore[no-untyped-call]
        )
        for instrumentor in clients:
            self._instrument(instrumentor, tracer_provider=self.provider)

    def _instrument(self, instrumentor: Any, **options: Any) -> None:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()  # another container of this process had it
        instrumentor.instrument(**options)
        self._instrumented.append(instrumentor)

    def untraced(self, scope: Any) -> bool:
        """True for a request whose `traceparent` names a trace not kept: FastAPI then makes no
        span for it at all (behind Cloud Run, which sets one on every request, that is all but
        the kept share). The sampler's own rule on the same trace id, decided before any span
        work instead of after it (bench/api_read.py)."""
        for name, value in scope.get("headers", ()):
            if name == b"traceparent":
                arrived = _TRACEPARENT_BYTES.fullmatch(value)
                if arrived is None:
                    return False
                trace_id = int(arrived[1], 16) & TraceIdRatioBased.TRACE_ID_LIMIT
                return trace_id >= self._bound
        return False

    @cached_property
    def _bound(self) -> int:
        """`TraceIdRatioBased`'s bound for `ratio`: a trace id below it is kept (`sampler`)."""
        return int(TraceIdRatioBased.get_bound_for_rate(self.ratio))

    def close(self) -> None:
        for instrumentor in reversed(self._instrumented):
            instrumentor.uninstrument()
        self._instrumented.clear()
        self.provider.force_flush()


def start(settings: Settings, *, exporter: SpanExporter | None = None) -> Tracing | None:
    """Tracing as `settings` say (None when off), this process's global provider from now on.

    `exporter` replaces the one `settings` name (a test's in-memory exporter). The global
    provider can be set once per process: a later call traces through the first one.
    """
    exporter = exporter if exporter is not None else exporter_for(settings)
    if exporter is None:
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        log.info("tracing.provider_already_set")  # a test run's second container
        return Tracing(current, settings.trace_sample_ratio)
    traced = provider(settings, exporter)
    trace.set_tracer_provider(traced)
    return Tracing(traced, settings.trace_sample_ratio)


_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_TRACEPARENT_BYTES = re.compile(_TRACEPARENT.pattern.encode())
"""The same, on the header's raw bytes: the check runs on every request."""


def log_fields(project_id: str | None) -> dict[str, Any]:
    """The current span's ids in the fields Cloud Logging reads; outside a span, the ids of the
    request's own `traceparent` (a request whose trace is not kept still groups its lines);
    nothing otherwise."""
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        trace_id, span_id = format(span.trace_id, "032x"), format(span.span_id, "016x")
        sampled = span.trace_flags.sampled
    else:
        arrived = _TRACEPARENT.fullmatch(context.traceparent.get() or "")
        if arrived is None:
            return {}
        trace_id, span_id = arrived[1], arrived[2]
        sampled = False  # not by us
    return {
        "logging.googleapis.com/trace": (
            f"projects/{project_id}/traces/{trace_id}" if project_id else trace_id
        ),
        "logging.googleapis.com/spanId": span_id,
        "logging.googleapis.com/trace_sampled": sampled,
    }
