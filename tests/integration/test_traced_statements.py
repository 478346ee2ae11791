"""SQL in a trace: each statement a client span inside a kept trace, nothing outside one.

The engine's cursors come from `Tracing.cursor_factory()` (psycopg's cursor class), as
`app.bootstrap.build` makes them: no SQLAlchemy event listener, whose event path every read
would pay for (bench/README.md, "Tracing's floor").
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from datastore.postgres.engine import create_engine
from tests.support.tracing import Spans

pytestmark = pytest.mark.anyio

SECRET = "ulrike-geheim-7f3a"


@pytest.fixture
async def engine(spans: Spans, database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine as `app.bootstrap.build` makes one with tracing on, connected once outside
    any trace (a new connection's first statements are the dialect's, not the test's)."""
    made = create_engine(database_url, pool_size=1, cursor_factory=spans.tracing.cursor_factory())
    async with made.connect():
        pass
    yield made
    await made.dispose()


@pytest.fixture
def tracer(spans: Spans) -> trace.Tracer:
    return spans.tracing.provider.get_tracer(__name__)


async def test_a_statement_in_a_kept_trace_is_a_span_with_its_sql_and_no_values(
    spans: Spans, engine: AsyncEngine, tracer: trace.Tracer
) -> None:
    async with engine.connect() as outside:
        await outside.execute(text("SELECT :word AS said"), {"word": SECRET})
    with tracer.start_as_current_span("request") as request:
        async with engine.connect() as inside:
            said = await inside.scalar(text("SELECT :word AS said"), {"word": SECRET})

    assert said == SECRET
    statements = [s for s in spans.finished() if s.kind is SpanKind.CLIENT]
    assert len(statements) == 1  # the one in the trace; none for the connection's ping
    (span,) = statements
    assert span.name == "SELECT"
    assert span.parent is not None
    assert span.parent.span_id == request.get_span_context().span_id
    attributes = dict(span.attributes or {})
    assert attributes["db.system"] == "postgresql"
    assert attributes["db.namespace"] == engine.url.database
    assert attributes["db.statement"] == "SELECT %(word)s AS said"
    assert SECRET not in repr(attributes)


async def test_a_failing_statement_is_an_error_span_and_fails_as_it_would_untraced(
    spans: Spans, engine: AsyncEngine, tracer: trace.Tracer
) -> None:
    with tracer.start_as_current_span("request"):
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as failed:
                await connection.execute(text("SELECT 1 / 0 AS x"))

    assert isinstance(failed.value.orig, psycopg.errors.DivisionByZero)
    (span,) = [s for s in spans.finished() if s.kind is SpanKind.CLIENT]
    assert span.status.status_code is StatusCode.ERROR
    (raised,) = [e for e in span.events if e.name == "exception"]
    assert dict(raised.attributes or {})["exception.type"].endswith("DivisionByZero")
    assert "exception.message" not in dict(raised.attributes or {})  # types only leave


async def test_outside_any_trace_statements_make_no_span(spans: Spans, engine: AsyncEngine) -> None:
    assert not trace.get_current_span().is_recording()
    async with engine.begin() as connection:
        await connection.execute(text("SELECT 1"))

    assert spans.finished() == []
