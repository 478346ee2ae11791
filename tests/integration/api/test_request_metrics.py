"""focus_http_request_duration_seconds, the histogram the latency SLO and the dashboard read:
one series per route template and status class, never per id, timed to the response's end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import REGISTRY
from starlette.responses import StreamingResponse
from starlette.testclient import TestClient

from api.request_metrics import UNMATCHED
from app.bootstrap import Container, build_app
from tests.conftest import ApiUser
from tests.support import db_faults

METRIC = "focus_http_request_duration_seconds"
SESSION = "/v1/focus-sessions/{session_id}"


def observed(method: str, route: str, status_class: str, sample: str = "count") -> float:
    labels = {"method": method, "route": route, "status_class": status_class}
    return REGISTRY.get_sample_value(f"{METRIC}_{sample}", labels) or 0.0


def within_300_ms(method: str, route: str, status_class: str) -> float:
    labels = {"method": method, "route": route, "status_class": status_class, "le": "0.3"}
    return REGISTRY.get_sample_value(f"{METRIC}_bucket", labels) or 0.0


def routes_seen() -> set[str]:
    return {
        sample.labels["route"]
        for family in REGISTRY.collect()
        if family.name == METRIC
        for sample in family.samples
        if "route" in sample.labels
    }


def test_a_read_by_id_is_recorded_under_its_route_template_not_the_id(
    client: TestClient, alice: ApiUser
) -> None:
    session_id = str(uuid.uuid4())
    before = observed("GET", SESSION, "4xx")

    answer = client.get(f"/v1/focus-sessions/{session_id}", headers=alice.headers)

    assert answer.status_code == 404  # the route matched; the session does not exist
    assert observed("GET", SESSION, "4xx") == before + 1
    assert not any(session_id in route for route in routes_seen())


def test_paths_no_route_matches_are_one_label_value(client: TestClient, alice: ApiUser) -> None:
    before = observed("GET", UNMATCHED, "4xx")

    for probe in ("/wp-login.php", f"/v1/no-such-thing/{uuid.uuid4()}", "/.env"):
        assert client.get(probe, headers=alice.headers).status_code == 404

    assert observed("GET", UNMATCHED, "4xx") == before + 3
    assert not any("wp-login" in route or "no-such-thing" in route for route in routes_seen())


def test_a_refusal_before_routing_counts_under_the_route_it_was_meant_for(
    client: TestClient, alice: ApiUser
) -> None:
    before = observed("GET", SESSION, "4xx")

    too_old = alice.with_headers(X_App_Version="1.0.0")
    answer = client.get(f"/v1/focus-sessions/{uuid.uuid4()}", headers=too_old)

    assert answer.status_code == 426  # the edge answers before any route runs
    assert observed("GET", SESSION, "4xx") == before + 1


@pytest.fixture
def inserts_fail(database_url: str, alice: ApiUser) -> Iterator[None]:
    with db_faults.on_insert(
        database_url, "blocklists", alice.uid, "RAISE EXCEPTION 'no rule for this'"
    ):
        yield


@pytest.mark.usefixtures("inserts_fail")
def test_a_server_error_is_counted_as_5xx(client: TestClient, alice: ApiUser) -> None:
    before = observed("POST", "/v1/blocklists", "5xx")
    blocklist = {"name": "Social", "items": [{"kind": "web_domain", "value": "instagram.com"}]}

    answer = client.post("/v1/blocklists", headers=alice.headers, json=blocklist)

    assert answer.status_code == 500
    assert observed("POST", "/v1/blocklists", "5xx") == before + 1


CHUNK_PAUSE = 0.2
STREAM = "/v1/test-stream/{n}"


@pytest.fixture
def streaming_client(container: Container) -> Iterator[TestClient]:
    """The app as every API test builds it, plus one route whose body takes its time."""
    app = build_app(container)

    async def stream(n: int) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(n):
                if i:
                    await asyncio.sleep(CHUNK_PAUSE)
                yield b"chunk\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    app.add_api_route(STREAM, stream, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_streamed_response_is_timed_to_its_last_chunk(
    streaming_client: TestClient, alice: ApiUser
) -> None:
    count, total = observed("GET", STREAM, "2xx"), observed("GET", STREAM, "2xx", "sum")
    fast = within_300_ms("GET", STREAM, "2xx")

    answer = streaming_client.get("/v1/test-stream/3", headers=alice.headers)

    assert answer.text == "chunk\n" * 3
    assert observed("GET", STREAM, "2xx") == count + 1
    assert observed("GET", STREAM, "2xx", "sum") - total >= 2 * CHUNK_PAUSE
    assert within_300_ms("GET", STREAM, "2xx") == fast  # slower than the objective
