"""Pytest plugin: a real Cloud Firestore emulator for the test session.

Load it with `pytest_plugins = ["tests.support.firestore_emulator"]` and ask for
`firestore_emulator`. The emulator comes with the Google Cloud CLI
(`gcloud components install cloud-firestore-emulator`; it needs Java). While the fixture is up,
FIRESTORE_EMULATOR_HOST points every Firestore client created in this process at it.

Fault tests can `stop()` it (clients then fail as against an unreachable Firestore) and
`start()` it again on the same port, or wrap the outage in `with firestore_emulator.outage():`
so that a failing test cannot leave it stopped for the rest of the session; by default the
data written before the stop is back after the start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from google.cloud import firestore

from tests.support.processes import free_port, start_group, stop_group

PROJECT_ID = "demo-focus"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10
HOW_TO_INSTALL = (
    "the Firestore emulator needs the Google Cloud CLI (`gcloud`) with its Firestore emulator "
    "component: install the CLI (https://cloud.google.com/sdk/docs/install), then "
    "`gcloud components install cloud-firestore-emulator` (or the distribution's "
    "google-cloud-cli-firestore-emulator package), and Java 17+"
)


class FirestoreEmulator:
    """A running emulator: clients for it, and the admin calls tests need."""

    def __init__(self, gcloud: str, workdir: Path, host: str, project_id: str = PROJECT_ID) -> None:
        self.host = host
        self.project_id = project_id
        self._gcloud = gcloud
        self._workdir = workdir
        self._http = httpx2.Client(base_url=f"http://{host}", timeout=10)
        self._process: subprocess.Popen[bytes] | None = None
        self._saved: Path | None = None  # the export metadata the next start imports
        self._stops = 0
        self._clients: list[firestore.Client] = []

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> Path:
        return self._workdir / "emulator.log"

    def client(self) -> firestore.Client:
        """A client for the emulator's project; closed when the session ends."""
        client = firestore.Client(project=self.project_id)
        self._clients.append(client)
        return client

    def async_client(self) -> firestore.AsyncClient:
        """An asyncio client: its channel belongs to the event loop of its first call, so make
        one per test (per loop)."""
        return firestore.AsyncClient(project=self.project_id)

    def reset(self) -> None:
        """Delete every document of the project: each test starts from an empty database."""
        path = f"/emulator/v1/projects/{self.project_id}/databases/(default)/documents"
        self._http.delete(path).raise_for_status()

    def start(self) -> None:
        """Start on `host` (again), with what was saved at the last `stop()`, and wait."""
        if self.running:
            raise RuntimeError("the Firestore emulator is already running")
        command = [self._gcloud, "emulators", "firestore", "start", f"--host-port={self.host}"]
        if self._saved is not None:
            command.append(f"--import-data={self._saved}")
        # Never a prompt (a missing component would otherwise wait for an answer forever).
        env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
        self._process = start_group(command, self._workdir, self.log, env=env)
        self._wait_until_ready(self._process)

    def stop(self, *, keep_data: bool = True) -> None:
        """Stop the emulator. With `keep_data` the documents are exported first and come back
        with the next `start()`, as a real Firestore's would after an outage; without it the
        next start is empty."""
        if self._process is None:
            return
        self._saved = self._export() if keep_data and self.running else None
        stop_group(self._process, STOP_TIMEOUT_SECONDS)
        self._process = None

    @contextlib.contextmanager
    def outage(self, *, keep_data: bool = True) -> Iterator[None]:
        """Stopped inside the block, running again after it, even when the block fails."""
        self.stop(keep_data=keep_data)
        try:
            yield
        finally:
            self.start()

    def close(self) -> None:
        try:
            for client in self._clients:
                # No Client.close(): the GAPIC client (made on first use) owns the channel.
                api = client._firestore_api_internal
                if api is not None:
                    api.transport.close()
            self._http.close()
        finally:
            self.stop(keep_data=False)

    def _export(self) -> Path:
        self._stops += 1
        folder = self._workdir / f"export-{self._stops}"
        folder.mkdir()
        body = {
            "database": f"projects/{self.project_id}/databases/(default)",
            "export_directory": str(folder),
        }
        url = f"/emulator/v1/projects/{self.project_id}:export"
        self._http.post(url, json=body).raise_for_status()
        (metadata,) = folder.glob("*/*.overall_export_metadata")
        return metadata

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                message = f"Firestore emulator exited early ({HOW_TO_INSTALL}):\n"
                pytest.fail(message + self.log.read_text(), pytrace=False)
            try:
                if self._http.get("/", timeout=2).text.strip() == "Ok":
                    return
            except httpx2.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
        stop_group(process, STOP_TIMEOUT_SECONDS)
        message = f"Firestore emulator not ready after {START_TIMEOUT_SECONDS}s:\n"
        pytest.fail(message + self.log.read_text(), pytrace=False)


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    """Start the emulator once per session (per xdist worker) and point the clients at it."""
    gcloud = _gcloud()
    with tempfile.TemporaryDirectory(prefix="focus-firestore-emulator-") as workdir:
        emulator = FirestoreEmulator(gcloud, Path(workdir), f"127.0.0.1:{free_port()}")
        try:
            emulator.start()
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
                yield emulator
        finally:
            emulator.close()


def _gcloud() -> str:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.fail(f"`gcloud` is not on PATH: {HOW_TO_INSTALL}", pytrace=False)
    # An SDK laid out as Google ships it names its installed components in platform/.
    platform = Path(gcloud).resolve().parents[1] / "platform"
    if platform.is_dir() and not (platform / "cloud-firestore-emulator").is_dir():
        pytest.fail(f"the Firestore emulator component is missing: {HOW_TO_INSTALL}", pytrace=False)
    return gcloud
