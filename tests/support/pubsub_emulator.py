"""Pytest plugin: a real Google Cloud Pub/Sub emulator for the test session.

Load it with `pytest_plugins = ["tests.support.pubsub_emulator"]` and ask for `pubsub_emulator`.
The emulator comes with the Google Cloud CLI (`gcloud components install pubsub-emulator beta`;
it needs Java 17+). While the fixture is up, PUBSUB_EMULATOR_HOST points every Pub/Sub client
created in this process at it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from google.api_core.exceptions import DeadlineExceeded
from google.cloud import pubsub_v1

from tests.support.processes import free_port, start_group, stop_group

PROJECT_ID = "demo-focus"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
HOW_TO_INSTALL = (
    "the Pub/Sub emulator needs the Google Cloud CLI (`gcloud`) with its Pub/Sub emulator "
    "component: install the CLI (https://cloud.google.com/sdk/docs/install), then "
    "`gcloud components install pubsub-emulator beta` (or the distribution's "
    "google-cloud-cli-pubsub-emulator package), and Java 17+"
)


class PubSubEmulator:
    """A running emulator and the admin calls tests need: topics, subscriptions, pulls."""

    def __init__(self, host: str, project_id: str = PROJECT_ID) -> None:
        self.host = host
        self.project_id = project_id
        self._publisher: Any = pubsub_v1.PublisherClient()
        self._subscriber: Any = pubsub_v1.SubscriberClient()

    def unique_name(self, prefix: str) -> str:
        """A topic or subscription name no other test uses."""
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    def topic_path(self, topic: str) -> str:
        return str(self._publisher.topic_path(self.project_id, topic))

    def create_topic(self, topic: str | None = None) -> str:
        """Creates a topic (a fresh name by default); returns its short name."""
        topic = topic or self.unique_name("topic")
        self._publisher.create_topic(request={"name": self.topic_path(topic)})
        return topic

    def create_subscription(self, topic: str, subscription: str | None = None) -> str:
        """A pull subscription with message ordering; returns its path."""
        path = str(
            self._subscriber.subscription_path(
                self.project_id, subscription or self.unique_name("sub")
            )
        )
        self._subscriber.create_subscription(
            request={
                "name": path,
                "topic": self.topic_path(topic),
                "enable_message_ordering": True,
                "ack_deadline_seconds": 60,
            }
        )
        return path

    def create_push_subscription(self, topic: str, endpoint: str) -> str:
        """A push subscription with message ordering that POSTs to `endpoint`; its path."""
        path = str(self._subscriber.subscription_path(self.project_id, self.unique_name("push")))
        self._subscriber.create_subscription(
            request={
                "name": path,
                "topic": self.topic_path(topic),
                "push_config": {"push_endpoint": endpoint},
                "enable_message_ordering": True,
                "ack_deadline_seconds": 10,
                "retry_policy": {
                    "minimum_backoff": {"seconds": 1},
                    "maximum_backoff": {"seconds": 2},
                },
            }
        )
        return path

    def publish(self, topic: str, data: bytes, ordering_key: str, **attributes: str) -> None:
        """Publishes one message as the relay would (a duplicate, a poison message, …)."""
        publisher = pubsub_v1.PublisherClient(
            publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
        )
        try:
            future = publisher.publish(
                self.topic_path(topic), data, ordering_key=ordering_key, **attributes
            )
            future.result(timeout=10)
        finally:
            publisher.stop()

    def pull(self, subscription: str, count: int, *, timeout: float = 10.0) -> list[Any]:
        """Pulls and acks until `count` messages arrived or `timeout` passed: the
        `PubsubMessage`s in delivery order. Then waits briefly for any extra (duplicate)
        message, so a test asserting the exact list also catches redeliveries."""
        messages: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(messages) < count and time.monotonic() < deadline:
            messages += self._pull_once(subscription, count - len(messages))
        messages += self._pull_once(subscription, count or 1, wait=0.5)
        return messages

    def _pull_once(self, subscription: str, limit: int, wait: float = 2.0) -> list[Any]:
        with contextlib.suppress(DeadlineExceeded):  # nothing there yet
            reply = self._subscriber.pull(
                request={"subscription": subscription, "max_messages": limit}, timeout=wait
            )
            received = list(reply.received_messages)
            if received:
                self._subscriber.acknowledge(
                    request={"subscription": subscription, "ack_ids": [m.ack_id for m in received]}
                )
            return [m.message for m in received]
        return []

    def close(self) -> None:
        self._subscriber.close()
        self._publisher.transport.close()


@pytest.fixture(scope="session")
def pubsub_emulator() -> Iterator[PubSubEmulator]:
    """Start the emulator once per session (per xdist worker) and point the clients at it."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.fail(f"`gcloud` is not on PATH: {HOW_TO_INSTALL}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="focus-pubsub-emulator-") as workdir:
        host = f"127.0.0.1:{free_port()}"
        log = Path(workdir) / "emulator.log"
        process = _start(gcloud, Path(workdir), host)
        try:
            _wait_until_ready(host, process, log)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("PUBSUB_EMULATOR_HOST", host)
                patch.setenv("PUBSUB_PROJECT_ID", PROJECT_ID)
                emulator = PubSubEmulator(host)
                try:
                    yield emulator
                finally:
                    emulator.close()
        finally:
            stop_group(process, STOP_TIMEOUT_SECONDS)


def _start(gcloud: str, workdir: Path, host: str) -> subprocess.Popen[bytes]:
    # Its own data dir, not the user's gcloud config: parallel sessions never share state.
    (workdir / "data").mkdir()
    command = [gcloud, "beta", "emulators", "pubsub", "start"]
    command += [f"--host-port={host}", f"--project={PROJECT_ID}", f"--data-dir={workdir}/data"]
    return start_group(command, workdir, workdir / "emulator.log")


def _wait_until_ready(host: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx2.Client(base_url=f"http://{host}", timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                message = f"Pub/Sub emulator exited early:\n{log.read_text()}"
                pytest.fail(message, pytrace=False)
            try:
                if http.get("/").text.strip() == "Ok":
                    return
            except httpx2.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
    pytest.fail(f"Pub/Sub emulator not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()}")
