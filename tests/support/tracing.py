"""Spans in memory: this process's tracer provider (one per process, as in production),
exporting through the same `PrivateSpans` as production into a list a test reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import tracing
from app.settings import Settings, TracingMode

EXPORTED = InMemorySpanExporter()


class Spans:
    def __init__(self, tracing: tracing.Tracing) -> None:
        self.tracing = tracing

    def finished(self) -> list[ReadableSpan]:
        """Every span ended so far, as exported (after the batch processor flushed)."""
        self.tracing.provider.force_flush()
        return list(EXPORTED.get_finished_spans())

    def of_trace(self, trace_id: int) -> list[ReadableSpan]:
        return [s for s in self.finished() if s.context.trace_id == trace_id]


@pytest.fixture
def spans() -> Iterator[Spans]:
    """Tracing on, every trace kept; pass `spans.tracing` to `build(…, tracing=…)`."""
    settings = Settings(tracing=TracingMode.CONSOLE, trace_sample_ratio=1.0)
    started = tracing.start(settings, exporter=EXPORTED)
    assert started is not None
    current = trace.get_tracer_provider()
    assert isinstance(current, TracerProvider)
    started.provider.force_flush()
    EXPORTED.clear()
    yield Spans(started)
    started.close()
    EXPORTED.clear()
