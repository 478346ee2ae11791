"""What the on-call engineer relies on from tracing's settings, whatever process reads them."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    set_span_in_context,
)

from api import context
from app import logs, tracing
from app.settings import ConfigurationError, Environment, Settings, TracingMode, check


def decision(ratio: float, trace_id: int, remote: TraceFlags | None) -> bool:
    parent = None
    if remote is not None:
        context = SpanContext(trace_id, 0xABC, is_remote=True, trace_flags=remote)
        parent = set_span_in_context(NonRecordingSpan(context))
    result = tracing.sampler(ratio).should_sample(parent, trace_id, "span")
    return result.decision is Decision.RECORD_AND_SAMPLE


def test_every_process_keeps_the_same_traces_whatever_a_caller_asks() -> None:
    ids = [random.getrandbits(128) for _ in range(2000)]
    kept = {i for i in ids if decision(0.1, i, None)}
    assert 100 < len(kept) < 300  # about a tenth
    for flags in (TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT)):
        # A remote parent (the API for the relay, a phone for the API) decides nothing.
        assert {i for i in ids if decision(0.1, i, flags)} == kept


def test_tracing_to_cloud_trace_needs_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FOCUS_FIREBASE_PROJECT_ID", "FIREBASE_PROJECT_ID", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="FOCUS_TRACING=cloud"):
        check(Settings(_env_file=None, env=Environment.TEST, tracing=TracingMode.CLOUD))


def test_tracing_is_off_on_the_embedded_default() -> None:
    assert tracing.start(Settings(_env_file=None)) is None


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure("INFO", json=True, project_id="focus-prod")
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_line_outside_any_span_names_no_trace(json_logs: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("app.test").warning("no.span")
    line = json.loads(json_logs.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "no.span"
    assert not [key for key in line if key.startswith("logging.googleapis.com/")]


def test_only_listed_attributes_leave_in_a_span() -> None:
    given = {
        "http.route": "/v1/devices/{installation_id}",
        "http.target": "/v1/devices/phone-1234",
        "url.full": "https://api.example/v1/devices/phone-1234",
        "client.address": "203.0.113.9",
        "user_agent.original": "Focus/4.2 (iPhone; Ulrike's)",
        "exception.message": "no user 'ulrike@example.com'",
        "focus.push.outcome": "delivered",
    }
    assert tracing.kept(given) == {
        "http.route": "/v1/devices/{installation_id}",
        "focus.push.outcome": "delivered",
    }


def test_a_request_whose_trace_is_not_kept_makes_no_span_at_all() -> None:
    """Cloud Run sets a `traceparent` on every request: the API decides on its trace id before
    any span work, as the sampler would have decided after it."""
    traced = tracing.Tracing(TracerProvider(), ratio=0.1)
    for _ in range(2000):
        trace_id = random.getrandbits(128)
        header = f"00-{trace_id:032x}-{random.getrandbits(64):016x}-01".encode()
        scope = {"headers": [(b"host", b"api"), (b"traceparent", header)]}
        assert traced.untraced(scope) is not decision(0.1, trace_id, None)
    assert not traced.untraced({"headers": []})  # no header: the sampler decides
    assert not traced.untraced({"headers": [(b"traceparent", b"garbage")]})


def test_a_line_of_a_request_not_traced_names_the_trace_it_arrived_with(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    trace_id, span_id = f"{random.getrandbits(128):032x}", f"{random.getrandbits(64):016x}"
    token = context.traceparent.set(f"00-{trace_id}-{span_id}-01")
    try:
        logging.getLogger("app.test").warning("not.traced")
    finally:
        context.traceparent.reset(token)
    line = json.loads(json_logs.readouterr().err.strip().splitlines()[-1])
    assert line["logging.googleapis.com/trace"] == f"projects/focus-prod/traces/{trace_id}"
    assert line["logging.googleapis.com/spanId"] == span_id
    assert line["logging.googleapis.com/trace_sampled"] is False
