"""Running a bench script (bench/) at CI size, as its own process, on the test session's
PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    """The script's run, with its output as text; it must have exited 0."""
    server = make_url(database_url).render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DATABASE_URL": server},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done
