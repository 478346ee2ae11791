"""The scale benchmark (bench/scale.py) at CI size, on the test session's PostgreSQL server: it
seeds both sizes within the schema's constraints, every request it times was answered as
expected (200/201, 50 sessions a page, 30 days of stats, 50 changes behind), each burst's events
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
    for shape in ("wide", "narrow"):
        result = rf"^RESULT outbox_burst_{shape} quiet_lag_p99=\d+\.\d{{3}} ratio=\d+\.\d\d$"
        assert re.search(result, printed, re.MULTILINE), printed
    assert out["sizes"]["L"]["users"][0] == 60
    # each shape drained twice, with turns and in the order written, the quiet user's writes
    # all published each time (burst() checks each event was handed over)
    users = {
        shape: {t: b["users"] for t, b in runs.items()} for shape, runs in out["burst"].items()
    }
    assert users == {"wide": {False: 50, True: 50}, "narrow": {False: 2, True: 2}}
    for runs in out["burst"].values():
        for b in runs.values():
            assert b["events"] == 2000
            assert len(b["lags"]) >= 20
