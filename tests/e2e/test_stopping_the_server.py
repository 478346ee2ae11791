"""Stopping `focus serve` stops what it started: the embedded PostgreSQL does not outlive it."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx2
import psutil
import pytest

from tests.e2e.test_embedded_default import dev_token
from tests.support.processes import start_group, stop_group
from tests.support.server import FOCUS, running_focus_serve

EMBEDDED = {"FOCUS_ENV": "dev"}


@pytest.fixture(autouse=True)
def _embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stopped_server_exits_0_and_stops_its_embedded_postgres(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with running_focus_serve(EMBEDDED, tmp_path) as server:
        assert postgres_serving(tmp_path), "the embedded PostgreSQL runs while serving"

        exit_code = server.stop(sig)

        assert exit_code == 0, server.log.read_text()
        assert postgres_serving(tmp_path) == []


def test_after_a_crash_the_next_server_starts_and_stops_the_postgres_left_behind(
    tmp_path: Path,
) -> None:
    with running_focus_serve(EMBEDDED, tmp_path) as crashed:
        crashed.stop(signal.SIGKILL)  # nothing runs on SIGKILL: the PostgreSQL stays
        assert postgres_serving(tmp_path)

        with running_focus_serve(EMBEDDED, tmp_path) as server:
            token = dev_token(tmp_path, EMBEDDED, "after-crash")
            me = httpx2.get(f"{server.url}/v1/me", headers={"Authorization": f"Bearer {token}"})
            exit_code = server.stop(signal.SIGTERM)

        assert me.status_code == 200
        assert exit_code == 0
        assert postgres_serving(tmp_path) == []


def test_a_server_that_cannot_listen_exits_and_stops_its_embedded_postgres(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [str(FOCUS), "serve", "--port", str(port)]
        process = start_group(command, tmp_path, tmp_path / "serve.log", {**os.environ, **EMBEDDED})
        try:
            exit_code = process.wait(timeout=60)
        finally:
            left = stop_group(process)

    assert exit_code != 0
    assert "address already in use" in (tmp_path / "serve.log").read_text()
    assert (tmp_path / ".focus" / "postgres" / "PG_VERSION").exists(), "it had started"
    assert postgres_serving(tmp_path) == []
    assert left == []


def postgres_serving(cwd: Path, settle: float = 5) -> list[int]:
    """The PostgreSQL servers on `cwd`'s embedded data folder, once any that is shutting down
    has had `settle` seconds to exit."""
    pgdata = str(cwd / ".focus" / "postgres")
    deadline = time.monotonic() + settle
    while True:
        running = [
            process.pid
            for process in psutil.process_iter(["name", "cmdline"])
            if process.info["name"] == "postgres" and pgdata in (process.info["cmdline"] or [])
        ]
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)
