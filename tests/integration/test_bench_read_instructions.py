"""The instruction-count bench (bench/read_instructions.py) at CI size, on the test session's
PostgreSQL server: ours, ours traced, the framework's floor and the bare app each read under
valgrind's callgrind, counted around the reads alone. What it reports must hold: a count per
read for each, bare below all others (it does only the essential work; the floor is that work
declared as FastAPI routes, and ours, which skips FastAPI's driver on its hot reads (ADR 0027),
may come out on either side of it), and the ratio lines, untraced and traced; with `--sync`, a
sync of 50 changes and the list page of the same 50 sessions. The counts themselves mean little
at this size."""

from __future__ import annotations

import re
import shutil

from tests.support.bench import run_bench


def test_the_instruction_bench_counts_the_bare_app_lowest(database_url: str) -> None:
    assert shutil.which("valgrind"), "needs valgrind: `make install` (apt-get install valgrind)"
    apps = ("ours", "trace", "floor", "bare")
    done = run_bench(
        "read_instructions.py", ["--reads", "20", "--apps", ",".join(apps)], database_url
    )

    counts = dict(re.findall(r"^(\w+)\s+(\d+\.\d+) M instructions per read$", done.stdout, re.M))
    assert set(counts) == set(apps), done.stdout
    ours, traced, floor, bare = (float(counts[app]) for app in apps)
    assert min(ours, traced, floor) > bare > 0.5  # a read is millions of them
    for result, app in (("api_read_instructions", ours), ("api_read_traced_instructions", traced)):
        ratio = re.search(rf"^RESULT {result} ratio=(\d\.\d\d)$", done.stdout, re.M)
        assert ratio is not None, done.stdout
        assert abs(float(ratio[1]) - bare / app) <= 0.01  # of the counts as printed


def test_the_instruction_bench_counts_a_sync_against_the_list_of_the_same_records(
    database_url: str,
) -> None:
    assert shutil.which("valgrind"), "needs valgrind: `make install` (apt-get install valgrind)"
    done = run_bench("read_instructions.py", ["--sync", "--reads", "5"], database_url)

    line = r"^ours\s+list page\s+(\d+\.\d+) M, sync of 50\s+(\d+\.\d+) M instructions; list/sync"
    counts = re.search(line, done.stdout, re.M)
    assert counts is not None, done.stdout
    list_page, sync_page = float(counts[1]), float(counts[2])
    assert sync_page > list_page > 1  # the sync sends the same 50 sessions, and more
    ratio = re.search(r"^RESULT api_sync_instructions ratio=(\d\.\d\d)$", done.stdout, re.M)
    assert ratio is not None, done.stdout
    assert abs(float(ratio[1]) - list_page / sync_page) <= 0.01  # of the counts as printed
