"""`focus serve` freezes what it built before serving, after collecting the garbage among it:
the collector's full passes then walk only what requests make (bench/README.md, "The
collector"). In a child process: freezing this test run's heap would outlive the test."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import gc, json, weakref
from app.bootstrap import build_app, freeze_startup_heap

class Node: pass
garbage = Node(); garbage.self = garbage  # a cycle only the collector can free
gone = weakref.ref(garbage)
del garbage
freeze_startup_heap()
print(json.dumps({"frozen": gc.get_freeze_count(), "cycle_freed": gone() is None}))
"""


def test_serving_freezes_the_startup_heap_without_its_garbage() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=120
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["frozen"] > 10_000, "the app's modules and objects are frozen"
    assert seen["cycle_freed"], "garbage made before serving is collected, not frozen forever"
