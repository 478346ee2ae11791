"""The scale benchmark (bench/scale.py) at CI size, on the test session's PostgreSQL server: it
seeds both sizes within the schema's constraints, every request it times was answered as
expected (200/201, 50 sessions a page, 30 days of stats, 50 changes behind), the burst's events
and the quiet user's are all published, and it prints its RESULT lines. The timings mean
nothing here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[2] / "bench"
OPS = ("list", "stats", "sync", "start", "end")
CI_SIZE = ["--small", "2000", "--large", "6000", "--burst", "2000", "--users", "8"]
CI_SIZE += ["--warmup-users", "2", "--warmup-rounds", "1", "--rounds", "1"]


def test_the_scale_bench_measures_the_same_users_at_both_sizes(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("scale")
    server = make_url(database_url).render_as_string(hide_password=False)

    out = bench.main([*CI_SIZE, "--database-url", server])

    printed = capsys.readouterr().out
    for op in OPS:
        assert re.search(rf"^RESULT scale_{op} ratio=\d+\.\d\d$", printed, re.MULTILINE), printed
        assert len(out["times"]["S"][op]) == len(out["times"]["L"][op]) == 8
        assert out["checked"][op] == 2 * (8 + 2)  # every answer checked, warm-up included
    assert re.search(r"^RESULT outbox_burst quiet_lag_p99=\d+\.\d{3}$", printed, re.MULTILINE)
    assert out["sizes"]["L"]["users"][0] == 60
    assert out["burst"]["events"] == 2000
    assert len(out["burst"]["lags"]) >= 20
