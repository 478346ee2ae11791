"""One trace from the phone to APNs and FCM, as production runs it, on loopback:

the phone's POST → its SQL, the event's outbox row → the relay's publish → the Pub/Sub
emulator → its push to /internal/pubsub/notifications → the consumer → a push to each of the
person's other devices (APNs and FCM fakes), and the log lines on the way carrying the trace in
the fields Cloud Logging reads. Personal data reaches neither a span nor a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from app import logs
from app.bootstrap import build, build_app
from app.settings import Settings
from datastore.postgres.schema import upgrade
from domain.common import utc_now
from domain.tasks import Task
from domain.trace_context import current_traceparent
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from jobs.worker import TaskWorker
from tests.support.apns_rules import ApnsCredentials, Reply
from tests.support.fake_apns import FakeApns
from tests.support.fake_fcm import FakeFcm
from tests.support.live_push import pubsub_stack_env
from tests.support.processes import free_port
from tests.support.pubsub_emulator import PubSubEmulator
from tests.support.tracing import Spans

pytestmark = pytest.mark.anyio

APP = {"X-Platform": "ios", "X-App-Version": "4.2.0"}


@dataclass
class Person:
    """Strings that are theirs alone: none may reach a span or a log line."""

    uid: str = f"ulrike-{secrets.token_hex(6)}"
    list_name: str = f"Ulrikes geheime Liste {secrets.token_hex(3)}"
    domain: str = f"ulrike-{secrets.token_hex(3)}.example"
    phone: str = f"phone-{secrets.token_hex(8)}"
    tablet: str = f"tablet-{secrets.token_hex(8)}"
    pixel: str = f"pixel-{secrets.token_hex(8)}"
    tablet_token: str = secrets.token_hex(32)
    pixel_token: str = f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(110)}"

    def strings(self) -> list[str]:
        return [self.uid, self.list_name, self.domain, self.tablet_token, self.pixel_token]

    def ids(self) -> list[str]:
        """Installation ids: in no span (a log line of a forgotten token names its device)."""
        return [self.phone, self.tablet, self.pixel]


@dataclass
class Stack:
    url: str
    issuer: DevTokenIssuer
    fcm: FakeFcm


@pytest.fixture
async def stack(
    scratch_database: str,
    pubsub_emulator: PubSubEmulator,
    apns_credentials: ApnsCredentials,
    fake_apns: FakeApns,
    spans: Spans,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stack]:
    """The API, its relay and task worker in this process (uvicorn, as `focus serve`), events
    through the Pub/Sub emulator pushed back to it, pushes live to the fakes."""
    upgrade(scratch_database)
    topic = pubsub_emulator.create_topic()
    with FakeFcm(pubsub_emulator.project_id) as fcm:
        env = pubsub_stack_env(
            tmp_path, pubsub_emulator.project_id, topic, apns_credentials, fake_apns, fcm
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        container = build(Settings(), scratch_database, tracing=spans.tracing)
        port = free_port()
        config = uvicorn.Config(
            build_app(container), host="127.0.0.1", port=port, log_config=None, access_log=False
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        url = f"http://127.0.0.1:{port}"
        while not server.started:
            assert not serving.done(), "the server did not start"
            await asyncio.sleep(0.05)
        pubsub_emulator.create_push_subscription(topic, f"{url}/internal/pubsub/notifications")
        issuer = DevTokenIssuer(load_or_create_secret(tmp_path / "data" / "dev-token-secret"))
        try:
            yield Stack(url, issuer, fcm)
        finally:
            server.should_exit = True
            await serving


@pytest.fixture
def log_lines(
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Callable[[], list[dict[str, object]]]]:
    """Our JSON log lines, as production writes them to stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure("INFO", json=True, project_id="focus-prod")

    def lines() -> list[dict[str, object]]:
        err = capsys.readouterr().err
        return [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    yield lines
    root.handlers[:] = handlers
    root.setLevel(level)


async def until(what: Callable[[], bool], seconds: float = 30) -> None:
    """Polls: what it waits for happens in other threads and processes (the fakes, Pub/Sub)."""
    async with asyncio.timeout(seconds):
        while not what():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_a_change_and_its_pushes_are_one_trace_with_nothing_personal_in_it(
    stack: Stack,
    fake_apns: FakeApns,
    spans: Spans,
    log_lines: Callable[[], list[dict[str, object]]],
) -> None:
    person = Person()
    # The tablet's token is no longer valid: forgetting it is logged, in the trace.
    fake_apns.respond_to(person.tablet_token, Reply(410, "Unregistered"))
    headers = {**APP, "Authorization": f"Bearer {stack.issuer.issue(person.uid)}"}
    async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=10) as http:
        for installation, platform, token in (
            (person.tablet, "ios", person.tablet_token),
            (person.pixel, "android", person.pixel_token),
        ):
            body = {"platform": platform, "push_token": token, "app_version": "4.2.0"}
            if platform == "ios":
                body["apns_environment"] = "production"
            put = await http.put(f"/v1/devices/{installation}", json=body)
            assert put.status_code == 201, put.text
        created = await http.post(
            "/v1/blocklists",
            headers={"X-Installation-Id": person.phone, "Idempotency-Key": secrets.token_hex(8)},
            json={
                "name": person.list_name,
                "items": [{"kind": "web_domain", "value": person.domain}],
            },
        )
        assert created.status_code == 201, created.text

    def pushed() -> bool:
        to_pixel = [s for s in stack.fcm.sends if s.body["message"]["token"] == person.pixel_token]
        to_tablet = [r for r in fake_apns.requests if r.device_token == person.tablet_token]
        return bool(to_pixel) and bool(to_tablet)

    await until(pushed)

    def named(name: str) -> list[ReadableSpan]:
        return [s for s in spans.finished() if s.name == name]

    await until(lambda: len(named("POST /v1/blocklists")) == 1)
    [request] = named("POST /v1/blocklists")

    def consumed() -> bool:  # its span ends last, once both pushes are settled
        return any(s.name == "consume notifications" for s in spans.of_trace(trace_id))

    trace_id = request.context.trace_id
    await until(consumed)
    assert request.kind is SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/v1/blocklists"
    one_trace = spans.of_trace(request.context.trace_id)
    by_id = {s.context.span_id: s for s in one_trace}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, f"{span.name} has no parent"
        return by_id[span.parent.span_id]

    # The outbox row was written in the request's trace, and its event published in it.
    statements = [str((s.attributes or {}).get("db.statement", "")) for s in one_trace]
    assert any("INSERT INTO outbox_events" in s for s in statements)
    [publish] = [s for s in one_trace if s.name == "publish blocklist.created"]
    assert publish.kind is SpanKind.PRODUCER
    assert parent(publish) is request
    # Pub/Sub carried it to the consumer, whose push request is another trace, linked.
    [consume] = [s for s in one_trace if s.name == "consume notifications"]
    assert consume.kind is SpanKind.CONSUMER
    assert parent(consume) is publish
    [pushed_by] = [link.context for link in consume.links]
    push_request = [s for s in spans.finished() if s.context.span_id == pushed_by.span_id]
    assert [s.name for s in push_request] == ["POST /internal/pubsub/{subscription}"]
    # Both pushes, in the trace: APNs (its 410 recorded) and FCM with its HTTP call.
    [to_ios] = [s for s in one_trace if s.name == "push ios"]
    [to_android] = [s for s in one_trace if s.name == "push android"]
    assert parent(to_ios) is consume
    assert parent(to_android) is consume
    assert (to_ios.attributes or {})["focus.push.outcome"] == "unregistered"
    assert (to_ios.attributes or {})["http.response.status_code"] == 410
    assert (to_android.attributes or {})["focus.push.outcome"] == "delivered"
    fcm_calls = [
        s for s in one_trace if s.kind is SpanKind.CLIENT and s.parent and parent(s) is to_android
    ]
    assert [(s.name, dict(s.attributes or {}).get("http.status_code")) for s in fcm_calls] == [
        ("POST", 200)
    ]

    # The forgotten token's log line names the trace and the consumer's span.
    lines = log_lines()
    [forgotten] = [x for x in lines if x.get("message") == "notifications.push.token_deactivated"]
    assert forgotten["logging.googleapis.com/trace"] == (
        f"projects/focus-prod/traces/{request.context.trace_id:032x}"
    )
    assert forgotten["logging.googleapis.com/spanId"] == f"{consume.context.span_id:016x}"
    assert forgotten["logging.googleapis.com/trace_sampled"] is True

    # Nothing of the person's in any span (name, attributes, events, resource) or log line.
    exported = [
        repr(
            (
                s.name,
                dict(s.attributes or {}),
                [(e.name, dict(e.attributes or {})) for e in s.events],
                dict(s.resource.attributes),
                s.status.description,
            )
        )
        for s in spans.finished()
    ]
    for text in exported:
        for secret in (*person.strings(), *person.ids()):
            assert secret not in text, f"{secret!r} in a span: {text}"
    for line in lines:
        for secret in person.strings():
            assert secret not in json.dumps(line), f"{secret!r} in a log line: {line}"


async def test_on_the_embedded_default_the_relay_hands_the_trace_to_every_consumer(
    scratch_database: str, settings: Settings, spans: Spans
) -> None:
    upgrade(scratch_database)
    container = build(settings, scratch_database, tracing=spans.tracing)
    app = build_app(container)  # no lifespan: the test drives the relay
    token = DevTokenIssuer(load_or_create_secret(settings.data_dir / "dev-token-secret"))
    headers = {**APP, "Authorization": f"Bearer {token.issue(f'u-{secrets.token_hex(6)}')}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://focus", headers=headers
        ) as http:
            body = {"platform": "ios", "push_token": secrets.token_hex(32), "app_version": "4.2"}
            body["apns_environment"] = "production"
            assert (await http.put("/v1/devices/tablet-0001", json=body)).status_code == 201
            from_phone = {"X-Installation-Id": "phone-0001", "Idempotency-Key": "start-0001"}
            started = await http.post(
                "/v1/focus-sessions",
                headers=from_phone,
                json={"planned_duration_minutes": 25},
            )
            assert started.status_code == 201, started.text
        assert await container.relay.drain() == 2  # the device, the session
    finally:
        await container.aclose()

    [request] = [s for s in spans.finished() if s.name == "POST /v1/focus-sessions"]
    one_trace = spans.of_trace(request.context.trace_id)
    [publish] = [s for s in one_trace if s.name == "publish focus_session.started"]
    consumed = sorted(s.name for s in one_trace if s.kind is SpanKind.CONSUMER)
    assert consumed == ["consume ai", "consume notifications"]
    assert {s.parent.span_id for s in one_trace if s.kind is SpanKind.CONSUMER if s.parent} == {
        publish.context.span_id
    }
    [push] = [s for s in one_trace if s.name == "push ios"]
    assert (push.attributes or {})["focus.push.outcome"] == "delivered"


async def test_a_task_runs_in_the_trace_that_scheduled_it(
    scratch_database: str, settings: Settings, spans: Spans
) -> None:
    upgrade(scratch_database)
    container = build(settings, scratch_database, tracing=spans.tracing)
    ran: list[str | None] = []

    async def handler(payload: Mapping[str, Any]) -> None:
        ran.append(current_traceparent())
        if len(ran) == 1:
            raise RuntimeError("the first run fails")

    container.task_handlers.register("test.traced", handler)
    tracer = trace.get_tracer(__name__)
    try:
        with tracer.start_as_current_span("schedules") as scheduling:
            now = utc_now()
            await container.task_queue.schedule(Task("test.traced", {}, now))
        worker = TaskWorker(container.task_queue, container.task_handlers, base_delay=timedelta(0))
        assert await worker.run_once() == 1  # fails, runs again at once
        assert await worker.run_once() == 1
    finally:
        await container.aclose()

    runs = [
        s
        for s in spans.of_trace(scheduling.get_span_context().trace_id)
        if s.name == "task test.traced"
    ]
    assert len(runs) == 2 == len(ran)
    assert {s.parent.span_id for s in runs if s.parent} == {scheduling.get_span_context().span_id}
    assert [s.status.status_code for s in runs] == [StatusCode.ERROR, StatusCode.UNSET]
    assert [(s.attributes or {})["focus.task.attempt"] for s in runs] == [1, 2]
    # What is exported of the failure: its type, never its message.
    [failed] = [e for e in runs[0].events if e.name == "exception"]
    assert dict(failed.attributes or {}) == {
        "exception.type": "RuntimeError",
        "exception.escaped": "False",
    }
