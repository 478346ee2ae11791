"""A long-running worker as Cloud Run's worker pools run it: `focus tasks work` serves its
metrics on loopback (for the Managed Prometheus sidecar), having frozen its startup heap as
`focus serve` does, and exits 0 on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx2
import pytest

from datastore.postgres.schema import upgrade
from tests.support.processes import free_port, start_group, stop_group

FOCUS = Path(sys.executable).with_name("focus")


def test_the_task_worker_serves_its_metrics_until_sigterm(
    scratch_database: str, tmp_path: Path
) -> None:
    if not FOCUS.exists():
        pytest.fail(f"{FOCUS} is missing: install the project (`make install`)", pytrace=False)
    upgrade(scratch_database)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "FOCUS_METRICS_PORT": str(port),
        "FOCUS_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / "worker.log"
    worker = start_group([str(FOCUS), "tasks", "work"], tmp_path, log, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert worker.poll() is None, f"the worker exited: {log.read_text()[-2000:]}"
            try:
                metrics = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the worker served no metrics in 60 s"
                time.sleep(0.2)
        assert metrics.status_code == 200
        assert b"focus_outbox_lag_seconds" in metrics.content  # what the outbox alerts read
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, log.read_text()[-2000:]
    finally:
        assert stop_group(worker) == [], "the worker left a process running"
