"""A Google Cloud Storage emulator (`gcp-storage-emulator` from PyPI) on a free loopback port,
and a service-account key of our own to sign URLs with.

`running_gcs_emulator()` starts it and stops it; the session fixture that does so once per
test session lives beside the tests that need it (`tests/integration/files/conftest.py`).
The emulator keeps objects in memory and serves `/<bucket>/<object>` to anyone: it ignores
the query of a signed URL, signature and expiry included. So tests check a signed URL's
signature themselves (`tests/integration/files/v4_signature.py`) and that it downloads.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.processes import free_port, start_group, stop_group

PROJECT_ID = "demo-focus"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
HOW_TO_INSTALL = (
    "the GCS emulator is the PyPI package `gcp-storage-emulator` (a dev dependency): "
    "`make install`, or `.venv/bin/uv pip install -r requirements-dev.lock`"
)


@dataclass(frozen=True)
class GcsEmulator:
    """A running emulator: its base URL, and the key file of a fake service account."""

    url: str
    key_file: Path
    service_account_email: str

    def new_bucket(self) -> str:
        """A fresh, empty bucket: each test its own."""
        name = f"focus-test-{uuid.uuid4().hex[:12]}"
        body = {"name": name}
        reply = httpx2.post(f"{self.url}/storage/v1/b", params={"project": PROJECT_ID}, json=body)
        reply.raise_for_status()
        return name


@contextlib.contextmanager
def running_gcs_emulator() -> Iterator[GcsEmulator]:
    """The emulator, started here and stopped when the block ends; fails the test with how
    to install it when it is missing."""
    if importlib.util.find_spec("gcp_storage_emulator") is None:
        pytest.fail(f"`gcp_storage_emulator` is not installed: {HOW_TO_INSTALL}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="focus-gcs-emulator-") as folder:
        workdir = Path(folder)
        port = free_port()
        command = [sys.executable, "-m", "gcp_storage_emulator", "start"]
        command += ["--host=127.0.0.1", f"--port={port}", "--in-memory", "--quiet"]
        log = workdir / "emulator.log"
        process = start_group(command, workdir, log)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_ready(url, process, log)
            email = f"focus-files@{PROJECT_ID}.iam.gserviceaccount.com"
            key_file = workdir / "service-account.json"
            key_file.write_text(json.dumps(fake_service_account(email)))
            yield GcsEmulator(url=url, key_file=key_file, service_account_email=email)
        finally:
            stop_group(process, STOP_TIMEOUT_SECONDS)


def fake_service_account(email: str) -> dict[str, Any]:
    """A service-account key file's contents with a freshly generated RSA key: enough for
    google-auth to sign V4 URLs locally (nothing here is known to Google)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem.decode(),
        "client_email": email,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with httpx2.Client(base_url=url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                message = f"GCS emulator exited early ({HOW_TO_INSTALL}):\n{log.read_text()}"
                pytest.fail(message, pytrace=False)
            try:
                if http.get("/").text.strip() == "OK":
                    return
            except httpx2.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    pytest.fail(f"GCS emulator not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()}")
