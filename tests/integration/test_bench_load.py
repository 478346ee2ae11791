"""The load bench (bench/load.py) at CI size, on the test session's PostgreSQL server: a tiny
ladder of the mobile mix and of its `GET /v1/me` baseline against the whole stack in its own
processes. What an on-call engineer reads from it must hold: every operation of the mix was
sent and answered, nothing answered 5xx or went unanswered, every retry got the first
attempt's answer back, the report has its fields, and nothing it started is left running. The
timings mean nothing here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parents[2] / "bench"
CI_SIZE = ["--ladder", "10,20", "--step", "3", "--warmup", "1", "--users", "12"]
CI_SIZE += ["--pause", "0.2", "--connections", "8"]
OPERATIONS = ("me", "list", "stats", "sync", "session", "schedule", "retry")


def test_the_load_bench_sends_the_whole_mix_and_leaves_nothing_behind(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("load")
    server = make_url(database_url).render_as_string(hide_password=False)

    out = bench.main([*CI_SIZE, "--database-url", server])

    printed = capsys.readouterr().out
    mix, baseline = out["steps"]["mix"], out["steps"]["me"]
    assert [s["rate"] for s in mix] == [s["rate"] for s in baseline] == [10, 20]
    for op in OPERATIONS:
        answered = sum(n for s in mix for status, n in s["statuses"].get(op, {}).items())
        ok = sum(
            n for s in mix for status, n in s["statuses"].get(op, {}).items() if status[0] == "2"
        )
        assert answered > 0, (op, [s["statuses"] for s in mix])
        assert ok == answered, (op, [s["statuses"] for s in mix])
    for step in mix + baseline:
        assert not step["errors"], step["errors"]  # no 4xx, 5xx, timeout or broken connection
        assert step["sent"] == step["answered"] == step["rate"] * 3
        assert set(step["kinds"]) == {"read", "sync", "write", "retry", "overall"}
        for kind in step["kinds"].values():
            assert set(kind) == {"n", "p50", "p95", "p99"}
    retries = [s["retries"] for s in mix]
    checked = sum(r["checked"] for r in retries)
    assert checked > 0
    assert sum(r["same"] for r in retries) == sum(r["replayed"] for r in retries) == checked
    assert set(out["steps"]["me"][0]["statuses"]) == {"me"}
    assert out["log"]["counts"].keys() <= {"INFO", "WARNING"}, out["log"]
    assert re.search(r"^RESULT load knee_rps=\d+ ratio=\d+\.\d\d$", printed, re.MULTILINE)
    assert "offered achieved" in printed
    for pid in out["pids"]:  # the server and the load generator, ended and reaped
        assert not Path(f"/proc/{pid}").exists(), pid
    admin = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin) as conn:
        left = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (out["database"],)
        ).fetchone()
    assert left is None
