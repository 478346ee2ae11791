"""The Cloud Tasks scheduler against an emulator: when, where and what a task posts; names."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio.to_thread
import orjson
import pytest
from opentelemetry import trace

from domain.common import utc_now
from domain.tasks import Task
from jobs.cloud_tasks import CloudTasksScheduler
from tests.support.tracing import Spans

if TYPE_CHECKING:  # imported by pytest as a plugin, not here: else it is not assert-rewritten
    from tests.support.cloud_tasks_emulator import CloudTasksEmulator, TaskTarget

SERVICE_ACCOUNT = "tasks@demo-focus.iam.gserviceaccount.com"
AUDIENCE = "https://api.focus.example"


@pytest.fixture
def scheduler(
    cloud_tasks_emulator: CloudTasksEmulator, task_target: TaskTarget
) -> CloudTasksScheduler:
    return CloudTasksScheduler(
        project_id=cloud_tasks_emulator.project_id,
        location=cloud_tasks_emulator.location,
        queue=cloud_tasks_emulator.create_queue(),
        target_base_url=task_target.base_url,
        service_account_email=SERVICE_ACCOUNT,
        audience=AUDIENCE,
        client=cloud_tasks_emulator.client,
    )


def unique_name() -> str:
    return f"t-{uuid.uuid4().hex}"


@pytest.mark.anyio
async def test_a_named_task_is_posted_as_json_to_its_kind_once_it_is_due(
    scheduler: CloudTasksScheduler, task_target: TaskTarget
) -> None:
    name = unique_name()
    run_at = utc_now() + timedelta(seconds=1.5)
    payload = {"device_id": "d-1", "version": 7}

    assert await scheduler.schedule(Task("push.deliver", payload, run_at, name=name))
    calls = await anyio.to_thread.run_sync(lambda: task_target.wait_for_calls(1, timeout=15))

    assert [(c.method, c.path) for c in calls] == [("POST", "/internal/tasks/push.deliver")]
    (call,) = calls
    assert orjson.loads(call.body) == payload
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-cloudtasks-taskname"] == name
    assert call.received_at >= run_at


@pytest.mark.anyio
async def test_a_second_task_of_a_pending_name_is_refused(
    scheduler: CloudTasksScheduler, cloud_tasks_emulator: CloudTasksEmulator
) -> None:
    name = unique_name()
    later = utc_now() + timedelta(hours=1)

    first = await scheduler.schedule(Task("push.deliver", {"n": 1}, later, name=name))
    second = await scheduler.schedule(Task("push.deliver", {"n": 2}, later, name=name))

    assert (first, second) == (True, False)
    pending = cloud_tasks_emulator.client.list_tasks(parent=scheduler.queue_path)
    assert [orjson.loads(t.http_request.body) for t in pending] == [{"n": 1}]


@pytest.mark.anyio
async def test_unnamed_tasks_are_never_deduplicated(
    scheduler: CloudTasksScheduler, cloud_tasks_emulator: CloudTasksEmulator
) -> None:
    later = utc_now() + timedelta(hours=1)

    results = [await scheduler.schedule(Task("push.deliver", {"n": 1}, later)) for _ in range(2)]

    assert results == [True, True]
    assert len(list(cloud_tasks_emulator.client.list_tasks(parent=scheduler.queue_path))) == 2


@pytest.mark.anyio
async def test_the_task_carries_an_oidc_token_of_the_configured_account_and_audience(
    scheduler: CloudTasksScheduler,
    cloud_tasks_emulator: CloudTasksEmulator,
    task_target: TaskTarget,
) -> None:
    # The emulator sends no token: what Cloud Tasks will sign is read back from the task.
    name = unique_name()
    run_at = utc_now().replace(microsecond=0) + timedelta(hours=1)
    await scheduler.schedule(Task("maintenance.purge", {}, run_at, name=name))

    created = cloud_tasks_emulator.client.get_task(name=scheduler.task_path(name))

    assert created.http_request.oidc_token.service_account_email == SERVICE_ACCOUNT
    assert created.http_request.oidc_token.audience == AUDIENCE
    assert created.http_request.url == f"{task_target.base_url}/internal/tasks/maintenance.purge"
    assert created.schedule_time == run_at


@pytest.mark.anyio
async def test_the_task_continues_the_trace_that_scheduled_it(
    scheduler: CloudTasksScheduler, task_target: TaskTarget, spans: Spans
) -> None:
    with trace.get_tracer(__name__).start_as_current_span("schedules") as scheduling:
        await scheduler.schedule(Task("push.deliver", {}, utc_now(), name=unique_name()))
    (call,) = await anyio.to_thread.run_sync(lambda: task_target.wait_for_calls(1, timeout=15))

    context = scheduling.get_span_context()
    assert call.headers["traceparent"] == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    )
