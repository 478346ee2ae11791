"""Which requests make spans. Behind Cloud Run every request carries a `traceparent`; only a
request whose trace is kept makes any span (its server span, its SQL), and one whose trace is
not kept makes none, decided before any span work. Both get the same answer."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

import pytest
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from app import tracing
from app.bootstrap import build, build_app
from app.settings import Settings
from tests.conftest import ApiUser
from tests.support.clock import TestClock
from tests.support.tracing import Spans

RATIO = 0.5


@pytest.fixture
def client(
    spans: Spans, settings: Settings, database_url: str, clock: TestClock
) -> Iterator[TestClient]:
    """The app with tracing on, keeping half the traces, as production keeps its share."""
    container = build(
        settings, database_url, clock=clock, tracing=replace(spans.tracing, ratio=RATIO)
    )
    with TestClient(build_app(container)) as test_client:
        yield test_client


def kept(trace_id: int) -> bool:
    """What the sampler itself decides for a trace arriving from Cloud Run (not sampled yet)."""
    decided = tracing.sampler(RATIO).should_sample(None, trace_id, "request")
    return decided.decision is Decision.RECORD_AND_SAMPLE


def test_only_a_request_whose_trace_is_kept_makes_spans(
    client: TestClient, spans: Spans, alice: ApiUser
) -> None:
    rng = random.Random(16)
    seen = {True: 0, False: 0}
    bodies = set()
    for _ in range(24):
        trace_id = rng.getrandbits(128)
        header = f"00-{trace_id:032x}-{rng.getrandbits(64):016x}-00"
        answer = client.get("/v1/me", headers=alice.with_headers(traceparent=header))
        assert answer.status_code == 200, answer.text
        bodies.add(answer.content)
        made = spans.of_trace(trace_id)
        seen[kept(trace_id)] += 1
        if not kept(trace_id):
            assert made == [], f"a trace not kept made spans: {[s.name for s in made]}"
            continue
        [server] = [s for s in made if s.kind is SpanKind.SERVER]
        assert server.name == "GET /v1/me"
        statements = [s for s in made if s.kind is SpanKind.CLIENT]
        assert statements, "the request's SQL is in its trace"
        assert all(s.parent is not None for s in statements)
    assert seen[True] > 0, f"a kept trace arrived: {seen}"
    assert seen[False] > 0, f"a trace not kept arrived: {seen}"
    assert len(bodies) == 1, "a request answers the same whether its trace is kept or not"


def test_a_health_check_makes_no_span_even_in_a_kept_trace(
    client: TestClient, spans: Spans
) -> None:
    trace_id = next(t for t in iter(lambda: random.getrandbits(128), None) if kept(t))
    header = f"00-{trace_id:032x}-{random.getrandbits(64):016x}-01"
    assert client.get("/healthz", headers={"traceparent": header}).status_code == 200
    assert spans.of_trace(trace_id) == []
