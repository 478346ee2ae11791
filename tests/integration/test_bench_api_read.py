"""The read throughput bench (bench/api_read.py) at CI size, on the test session's PostgreSQL
server: five uvicorn servers (ours, with the rate limiter, with tracing, the framework's floor,
bare) loaded in turn. What it reports must hold: every app answered every request with 200 and
the same JSON as bare (else the bare app would be doing less work), and the result lines (in
throughput, and in server CPU per read). The ratios themselves mean nothing at this size."""

from __future__ import annotations

import re

from tests.support.bench import run_bench

APPS = ("ours", "lim", "trace", "floor", "bare")


def test_the_read_bench_loads_every_app_without_an_error(database_url: str) -> None:
    done = run_bench(
        "api_read.py", ["--rounds", "1", "--duration", "1", "--warmup", "0.3"], database_url
    )

    assert "differs" not in done.stderr, done.stderr[-3000:]
    rows = re.findall(r"^(single|list)\s+(\w+)\s+(\d+)\s.*\s(\d+)$", done.stdout, re.M)
    assert {(endpoint, app) for endpoint, app, _, _ in rows} == {
        (endpoint, app) for endpoint in ("single", "list") for app in APPS
    }, done.stdout
    for endpoint, app, per_second, errors in rows:
        assert int(per_second) > 0, (endpoint, app)
        assert int(errors) == 0, (endpoint, app, done.stdout)
    for result in (
        "api_read",
        "api_read_rate_limited",
        "api_read_traced",
        "api_read_framework_floor",
        "api_read_traced_cpu",
    ):
        assert re.search(rf"^RESULT {result} ratio=\d+\.\d\d$", done.stdout, re.M), done.stdout
