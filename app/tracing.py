"""Traces (OpenTelemetry): a change on the phone, its event and its pushes as one trace.

A request's server span (FastAPI) holds its SQL (SQLAlchemy) and calls out (httpx, gRPC); the
event it writes keeps the request's W3C `traceparent` on its outbox row; the relay publishes
each event in a span of that trace and hands the span's context on (a Pub/Sub attribute, or
the in-process consumer directly); a consumer's span continues it, and so do the tasks it
schedules (a column of the Postgres queue, a header of Cloud Tasks) and the pushes it sends.
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
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
from opentelemetry.trace import Status

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
        # SQL: the statement as sent, bound values as placeholders
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.statement",
        "db.query.text",
        "db.operation.name",
        "net.peer.name",
        "net.peer.port",
        # gRPC (Firestore, Pub/Sub, Cloud Tasks)
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "rpc.grpc.status_code",
        # messaging
        "messaging.system",
        "messaging.operation",
        "messaging.operation.type",
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


@dataclass
class Tracing:
    """This process's tracer provider and what it instruments; `close` flushes and undoes."""

    provider: TracerProvider
    _instrumented: list[Any] = field(default_factory=list)

    def instrument_engine(self, engine: Any) -> None:
        """Every statement of `engine` (an AsyncEngine) as a span of the current trace."""
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Its declared range stops below SQLAlchemy 2.1, whose engine events it hooks are
        # unchanged: tests/integration/test_tracing.py shows the statements in the trace.
        self._instrument(
            SQLAlchemyInstrumentor(),
            engine=engine.sync_engine,
            tracer_provider=self.provider,
            skip_dep_check=True,
        )

    def instrument_app(self, app: Any) -> None:
        """Each request as a server span named by its route template; the health checks and
        the per-message ASGI spans left out (noise, and a third of the cost)."""
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.provider,
            excluded_urls="/healthz,/readyz",
            exclude_spans=["receive", "send"],
        )

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
        return Tracing(current)
    traced = provider(settings, exporter)
    trace.set_tracer_provider(traced)
    return Tracing(traced)


def log_fields(project_id: str | None) -> dict[str, Any]:
    """The current span's ids in the fields Cloud Logging reads, or nothing outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    trace_id = format(context.trace_id, "032x")
    return {
        "logging.googleapis.com/trace": (
            f"projects/{project_id}/traces/{trace_id}" if project_id else trace_id
        ),
        "logging.googleapis.com/spanId": format(context.span_id, "016x"),
        "logging.googleapis.com/trace_sampled": context.trace_flags.sampled,
    }
