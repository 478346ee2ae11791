"""Production's task scheduler: Google Cloud Tasks calls `{target}/internal/tasks/{kind}`.

Each task is an HTTP POST of the payload as JSON, dispatched at `run_at`, carrying an OIDC
token of our tasks service account for the audience the endpoint checks. Cloud Tasks retries
until the endpoint answers 2xx, with the queue's retry policy (terraform), so this adapter
has no worker.

Names: a named task becomes `{queue_path}/tasks/{name}`; Cloud Tasks refuses a second task of
that name (ALREADY_EXISTS) while the first is pending and for about an hour after it ran.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import anyio.to_thread
import orjson
from google.api_core.exceptions import AlreadyExists

from domain.tasks import Task
from domain.trace_context import current_traceparent

# Loaded by name so that mypy does not follow it: google-cloud-tasks is typed, and a typed
# `google.cloud.*` makes mypy lose the untyped `google.cloud.pubsub_v1` of events/pubsub.py.
tasks_v2: Any = importlib.import_module("google.cloud.tasks_v2")

DEFAULT_TIMEOUT_SECONDS = 30.0


def cloud_tasks_client(emulator_host: str | None = None) -> Any:
    """The client: Google's API with the default credentials, or an emulator (`host:port`,
    no TLS, no credentials). Made by the composition root, never at import."""
    if emulator_host is None:
        return tasks_v2.CloudTasksClient()
    grpc: Any = importlib.import_module("grpc")
    transports = importlib.import_module("google.cloud.tasks_v2.services.cloud_tasks.transports")

    channel = grpc.insecure_channel(emulator_host)
    return tasks_v2.CloudTasksClient(transport=transports.CloudTasksGrpcTransport(channel=channel))


class CloudTasksScheduler:
    def __init__(
        self,
        *,
        project_id: str,
        location: str,
        queue: str,
        target_base_url: str,
        service_account_email: str,
        audience: str | None = None,
        client: Any = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """`audience` defaults to `target_base_url` (what Cloud Run expects of its own URL)."""
        self._client = client if client is not None else cloud_tasks_client()
        self._queue_path: str = self._client.queue_path(project_id, location, queue)
        self._target_base_url = target_base_url.rstrip("/")
        self._oidc = tasks_v2.OidcToken(
            service_account_email=service_account_email,
            audience=audience or self._target_base_url,
        )
        self._timeout = timeout_seconds

    @property
    def queue_path(self) -> str:
        return self._queue_path

    def task_path(self, name: str) -> str:
        return f"{self._queue_path}/tasks/{name}"

    async def schedule(self, task: Task) -> bool:
        request = tasks_v2.CreateTaskRequest(parent=self._queue_path, task=self._to_cloud(task))
        create = functools.partial(self._client.create_task, request=request, timeout=self._timeout)
        try:
            # The client blocks on gRPC: call it in a worker thread, not on the event loop.
            await anyio.to_thread.run_sync(create)
        except AlreadyExists:
            return False
        return True

    def _to_cloud(self, task: Task) -> Any:
        headers = {"Content-Type": "application/json"}
        # The task's run continues the current trace: the endpoint's server span reads it.
        if (traceparent := current_traceparent()) is not None:
            headers["traceparent"] = traceparent
        cloud_task = tasks_v2.Task(
            http_request=tasks_v2.HttpRequest(
                url=f"{self._target_base_url}/internal/tasks/{task.kind}",
                http_method=tasks_v2.HttpMethod.POST,
                headers=headers,
                body=orjson.dumps(dict(task.payload)),
                oidc_token=self._oidc,
            ),
            schedule_time=task.run_at,
        )
        if task.name is not None:
            cloud_task.name = self.task_path(task.name)
        return cloud_task
