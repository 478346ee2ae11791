"""`focus serve` as a subprocess on a free loopback port, as the apps meet it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest

from tests.support.processes import free_port, start_group, stop_group

FOCUS = Path(sys.executable).with_name("focus")


@contextmanager
def focus_serve(env: dict[str, str], cwd: Path, *, timeout: float = 60) -> Iterator[str]:
    """Run `focus serve` with `env` (on top of ours) in `cwd`; yield its base URL once ready."""
    if not FOCUS.exists():
        pytest.fail(f"{FOCUS} is missing: install the project (`make install`)", pytrace=False)
    port = free_port()
    log_path = cwd / "serve.log"
    full_env = {**os.environ, **env}
    command = [str(FOCUS), "serve", "--port", str(port), "--no-access-log"]
    process = start_group(command, cwd, log_path, full_env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base_url, process, log_path, timeout)
        yield base_url
    finally:
        stop_group(process, 15)


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`focus serve` exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx2.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"`focus serve` not ready after {timeout} s:\n{log.read_text()}")
