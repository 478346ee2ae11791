"""Pytest plugin: a Cloud Tasks emulator for the test session, and an HTTP target it calls.

Load it with `pytest_plugins = ["tests.support.cloud_tasks_emulator"]`; ask for
`cloud_tasks_emulator` (session: the emulator, a client on it, fresh queues) and `task_target`
(per test: a loopback HTTP server that records every call). The emulator is the Python package
`gcloud-tasks-emulator`, run by tests/support/cloud_tasks_emulator_server.py. It dispatches
tasks to their URL at or after their `schedule_time`, without OIDC tokens.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.api_core.exceptions import DeadlineExceeded, ServiceUnavailable
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from tests.support.processes import free_port, start_group, stop_group

PROJECT_ID = "demo-focus"
LOCATION = "europe-west1"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 5
REPO = Path(__file__).resolve().parents[2]
HOW_TO_INSTALL = (
    "the Cloud Tasks emulator is the Python package gcloud-tasks-emulator: "
    "`.venv/bin/uv pip install --python .venv/bin/python --no-deps gcloud-tasks-emulator` "
    "(--no-deps: it pins protobuf<5 but runs on the current one; it needs google-cloud-tasks, "
    "grpcio and pyyaml, which the project installs)"
)


class CloudTasksEmulator:
    """A running emulator and the calls tests need: a client, fresh queues."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.project_id = PROJECT_ID
        self.location = LOCATION
        channel = grpc.insecure_channel(host)
        self.client: Any = tasks_v2.CloudTasksClient(
            transport=CloudTasksGrpcTransport(channel=channel)
        )

    def create_queue(self) -> str:
        """A queue no other test uses; returns its short name."""
        queue = f"q-{uuid.uuid4().hex[:12]}"
        parent = f"projects/{self.project_id}/locations/{self.location}"
        self.client.create_queue(
            parent=parent, queue=tasks_v2.Queue(name=f"{parent}/queues/{queue}")
        )
        return queue

    def close(self) -> None:
        self.client.transport.close()


@dataclass(frozen=True)
class TaskCall:
    """One request the emulator made to the target."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime


class TaskTarget:
    """A loopback HTTP server standing in for `/internal/tasks/{kind}`: answers 204, records."""

    def __init__(self) -> None:
        self.calls: list[TaskCall] = []
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def wait_for_calls(self, count: int, *, timeout: float = 10.0) -> list[TaskCall]:
        """The calls once `count` arrived (or `timeout` passed), after a short wait for any
        extra (duplicate) call, so a test asserting the exact list also catches redeliveries."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.calls) >= count, timeout=timeout)
        time.sleep(0.5)
        with self._arrived:
            return list(self.calls)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, call: TaskCall) -> None:
        with self._arrived:
            self.calls.append(call)
            self._arrived.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                target._record(TaskCall("POST", self.path, headers, body, datetime.now(UTC)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test asserts on the recorded calls

        return Handler


@pytest.fixture(scope="session")
def cloud_tasks_emulator() -> Iterator[CloudTasksEmulator]:
    """Start the emulator once per session (per xdist worker)."""
    if importlib.util.find_spec("gcloud_tasks_emulator") is None:
        pytest.fail(f"gcloud-tasks-emulator is not installed: {HOW_TO_INSTALL}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="focus-tasks-emulator-") as workdir:
        host = f"127.0.0.1:{free_port()}"
        log = Path(workdir) / "emulator.log"
        command = [sys.executable, "-m", "tests.support.cloud_tasks_emulator_server"]
        process = start_group([*command, f"--port={host.rsplit(':', 1)[1]}"], REPO, log)
        try:
            emulator = CloudTasksEmulator(host)
            try:
                _wait_until_ready(emulator, process, log)
                yield emulator
            finally:
                emulator.close()
        finally:
            stop_group(process, STOP_TIMEOUT_SECONDS)


@pytest.fixture
def task_target() -> Iterator[TaskTarget]:
    target = TaskTarget()
    try:
        yield target
    finally:
        target.close()


def _wait_until_ready(
    emulator: CloudTasksEmulator, process: subprocess.Popen[bytes], log: Path
) -> None:
    parent = f"projects/{emulator.project_id}/locations/{emulator.location}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Cloud Tasks emulator exited early:\n{log.read_text()}", pytrace=False)
        try:
            emulator.client.list_queues(parent=parent, retry=None, timeout=1)
            return
        except (ServiceUnavailable, DeadlineExceeded):  # not listening yet
            time.sleep(0.2)
    pytest.fail(
        f"Cloud Tasks emulator not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()}",
        pytrace=False,
    )
