"""`focus serve` as a subprocess on a free loopback port, as the apps meet it.

Stopping it is checked as an operator would: it exits 0 on SIGTERM, and nothing it started
(the embedded PostgreSQL above all) is left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.support.processes import free_port, start_group, stop_group

FOCUS = Path(sys.executable).with_name("focus")
STOP_TIMEOUT_SECONDS = 15


@dataclass
class FocusServe:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    stopped_by_test: bool = False

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send `sig` to its process group, as Ctrl-C (SIGINT) or a supervisor (SIGTERM)
        does, and wait for it to exit: its exit code."""
        self.stopped_by_test = True
        os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`focus serve` still running {STOP_TIMEOUT_SECONDS} s after {sig.name}")


@contextmanager
def focus_serve(env: dict[str, str], cwd: Path, *, timeout: float = 60) -> Iterator[str]:
    """Run `focus serve` with `env` (on top of ours) in `cwd`; yield its base URL once ready."""
    with running_focus_serve(env, cwd, timeout=timeout) as server:
        yield server.url


@contextmanager
def running_focus_serve(
    env: dict[str, str], cwd: Path, *, timeout: float = 60, port: int | None = None
) -> Iterator[FocusServe]:
    """`focus serve` once ready. Leaving the block stops it with SIGTERM unless the test did,
    and fails the test if it did not exit 0 then or left a process running."""
    if not FOCUS.exists():
        pytest.fail(f"{FOCUS} is missing: install the project (`make install`)", pytrace=False)
    port = port or free_port()
    log_path = cwd / "serve.log"
    command = [str(FOCUS), "serve", "--port", str(port), "--no-access-log"]
    process = start_group(command, cwd, log_path, {**os.environ, **env})
    server = FocusServe(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_ready(server.url, process, log_path, timeout)
        yield server
    except BaseException:
        stop_group(process, STOP_TIMEOUT_SECONDS)  # the test's own failure says more
        raise
    how = "on its own" if process.poll() is not None else "on SIGTERM"
    left = stop_group(process, STOP_TIMEOUT_SECONDS)
    problems = []
    if not server.stopped_by_test and process.returncode != 0:
        problems.append(f"exited with {process.returncode} {how}, not 0")
    if left:
        problems.append("left running " + "; ".join(left))
    if problems:
        pytest.fail(f"`focus serve` {' and '.join(problems)}:\n{log_path.read_text()}")


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
