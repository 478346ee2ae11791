"""Servers the tests start: a free loopback port, their own process group, a clean stop, and
nothing left running when the tests are over.

Each process the tests start, and whatever it starts in turn, inherits two marks in its
environment: the test session's and, for a group started here, the group's. A server that
leaves its process group (PostgreSQL's `pg_ctl` starts the server in a session of its own) keeps
them, so it can still be found by its mark and stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

SESSION_MARK = "STARTED_BY_TEST_SESSION"
"""Set in the test process's environment: everything started by this session inherits it."""
GROUP_MARK = "STARTED_BY_TEST_GROUP"
"""Set in the environment of one process group started by `start_group`."""

_group_marks: dict[int, str] = {}


def free_port() -> int:
    """A loopback port nothing listens on right now (also: a port that refuses connections)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_group(
    command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group, output to `log`: stop_group ends all of it
    (wrappers such as gcloud's start a shell that starts Java)."""
    mark = uuid.uuid4().hex
    marked = {**(os.environ if env is None else env), **_session_mark(), GROUP_MARK: mark}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=marked,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _group_marks[process.pid] = mark
    return process


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10) -> list[str]:
    """SIGTERM the group, then SIGKILL whatever outlived it (e.g. Java behind a wrapper).

    Returns what the group had started outside itself and left running, ended here too.
    """
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()
    mark = _group_marks.pop(process.pid, None)
    return end_marked(GROUP_MARK, mark) if mark else []


@dataclass(frozen=True)
class Survivor:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid}: {self.command}"


def marked(name: str, value: str) -> list[Survivor]:
    """The live processes whose environment carries `name=value` (never this one)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if process.environ().get(name) != value:
                continue
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        found.append(Survivor(process.pid, " ".join(process.info["cmdline"] or [])))
    return found


def end_marked(name: str, value: str, grace: float = 5) -> list[str]:
    """Wait up to `grace` seconds for the processes marked `name=value` to finish (a server
    may still be exiting), then end the rest: SIGTERM, and SIGKILL a second later.

    Returns the ones that had to be ended."""
    deadline = time.monotonic() + grace
    while (survivors := marked(name, value)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for survivor in survivors:
        _signal(survivor.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(_existing(survivors), timeout=1)
    for process in alive:
        _signal(process.pid, signal.SIGKILL)
    return [str(survivor) for survivor in survivors]


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_running() -> Iterator[None]:
    """Fails the session (at its last teardown) when a process the tests started is still
    running once every fixture has stopped what it started; those processes are ended."""
    yield
    left = end_marked(SESSION_MARK, os.environ[SESSION_MARK])
    if left:
        pytest.fail("processes started by the tests were left running:\n" + "\n".join(left))


def pytest_configure(config: pytest.Config) -> None:
    """Each test process (each xdist worker) marks what it starts with a mark of its own."""
    os.environ[SESSION_MARK] = uuid.uuid4().hex


def _session_mark() -> dict[str, str]:
    mark = os.environ.get(SESSION_MARK)  # unset where this plugin is not loaded (bench/)
    return {SESSION_MARK: mark} if mark else {}


def _existing(survivors: list[Survivor]) -> list[psutil.Process]:
    processes = []
    for survivor in survivors:
        with contextlib.suppress(psutil.NoSuchProcess):
            processes.append(psutil.Process(survivor.pid))
    return processes


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, sig)
