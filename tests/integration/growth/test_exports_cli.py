"""`focus exports` as an operator runs it, in its own process on the growth fixture's database:
a run publishes and says what it did; status shows the watermark; a run killed (SIGKILL)
half-way leaves nothing published and the next run resumes its window and publishes it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from domain.growth.contract import BY_NAME
from tests.integration.growth.conftest import Growth
from tests.integration.growth.test_growth_exports import seed
from tests.support.clock import TestClock
from tests.support.processes import start_group, stop_group

FOCUS = Path(sys.executable).with_name("focus")
KILL_WAIT_SECONDS = 60
DAYS, PER_DAY = 300, 100


def environment(growth: Growth, database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "FOCUS_ENV": "test",
            "FOCUS_DATA_DIR": str(growth.data_dir)}  # fmt: skip


def focus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FOCUS), "exports", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_an_operator_runs_the_export_and_reads_its_status(
    growth: Growth, clock: TestClock, scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(datetime(2026, 6, 15, 12, tzinfo=UTC))
    seed(growth, growth.user(), consent=True)
    for name, value in environment(growth, scratch_database).items():
        if name in ("DATABASE_URL", "FOCUS_ENV", "FOCUS_DATA_DIR"):
            monkeypatch.setenv(name, value)

    def exports(*args: str) -> Result:
        return CliRunner().invoke(cli, ["exports", *args])

    ran = exports("run", "--dataset", "focus_sessions", "--dataset", "users", "--compact")
    status = exports("status", "--json")
    unknown = exports("run", "--dataset", "sessions")
    backwards = exports("run", "--since", "10", "--until", "5")

    assert ran.exit_code == 0, ran.output
    assert "focus_sessions" in ran.stdout
    assert "published" in ran.stdout
    assert "compacted: rewrote 0 file(s), removed 0 row(s)" in ran.stdout
    found = json.loads(status.stdout)
    assert set(found["datasets"]) == set(BY_NAME)
    assert found["datasets"]["focus_sessions"]["watermark"] > 0
    assert found["datasets"]["devices"]["watermark"] == 0  # not run yet
    assert found["datasets"]["focus_sessions"]["runs"][0]["rows"] == 1
    assert found["to_compact"] == 0
    assert (unknown.exit_code, backwards.exit_code) == (2, 2)
    assert "no such dataset: sessions" in unknown.stderr
    assert "--until needs --since" in backwards.stderr


def test_a_run_killed_half_way_publishes_nothing_and_the_next_publishes_it_all(
    growth: Growth, scratch_database: str, tmp_path: Path
) -> None:
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (uid, timezone, consent_analytics, created_at, updated_at)"
            " SELECT 'bulk-' || u, 'Europe/Berlin', true, now(), now()"
            " FROM generate_series(1, 50) u"
        )
        conn.execute(
            "INSERT INTO focus_sessions (user_id, id, mode, planned_duration_seconds,"
            " started_at, ended_at, outcome, timezone, local_date, version, created_at,"
            " updated_at)"
            " SELECT 'bulk-' || (i %% 50 + 1), gen_random_uuid(), 'normal', 1500,"
            "  d, d + interval '25 minutes', 'completed', 'Europe/Berlin', d::date, i, d, d"
            " FROM generate_series(1, %s) i,"
            "  LATERAL (SELECT timestamptz '2025-01-01 09:00+00'"
            "   + (i %% %s) * interval '1 day') t(d)",
            (DAYS * PER_DAY, DAYS),
        )
    env = environment(growth, scratch_database)
    staging, published = growth.files / "growth" / "_staging", growth.files / "growth" / "v1"
    process = start_group(
        [str(FOCUS), "exports", "run", "--dataset", "focus_sessions"], tmp_path,
        tmp_path / "run.log", env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + KILL_WAIT_SECONDS
        while not list(staging.rglob("*.parquet")) and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        stop_group(process)

    assert list(staging.rglob("*.parquet")), "the run was killed before it staged a file"
    assert not list(published.rglob("*.parquet"))
    assert not list(published.rglob("*.json"))
    stopped = json.loads(focus(env, "status", "--json").stdout)["datasets"]["focus_sessions"]
    assert stopped["watermark"] == 0
    assert stopped["runs"][0]["state"] == "writing"

    resumed = focus(env, "run", "--dataset", "focus_sessions")

    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout
    (manifest,) = [json.loads(p.read_text()) for p in published.rglob("*.json")]
    assert manifest["rows"] == DAYS * PER_DAY
    assert (manifest["lower"], manifest["upper"]) == (
        stopped["runs"][0]["lower"], stopped["runs"][0]["upper"],
    )  # fmt: skip
    assert len(manifest["files"]) == DAYS
    assert not list(staging.rglob("*.parquet"))
