"""The AI hooks' benchmark (bench/ai_hooks.py) at CI size, on the test session's PostgreSQL
server: it runs whole, every event it delivers makes a suggestion (its own check), and it
prints its ratio and latency lines. The timings mean nothing here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[3] / "bench"


def test_the_ai_bench_runs_and_reports(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("ai_hooks")
    server = make_url(database_url).render_as_string(hide_password=False)

    bench.main(["--people", "6", "--rounds", "1", "--latency", "3", "--database-url", server])

    out = capsys.readouterr().out
    assert re.search(r"^RESULT ai_consumer ratio=\d+\.\d\d$", out, re.MULTILINE), out
    assert re.search(r"^RESULT ai_latency p95=\d+\.\d{3}$", out, re.MULTILINE), out
    assert "n=3 " in out
