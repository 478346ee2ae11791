"""The privacy benchmarks (bench/privacy_erase.py, bench/privacy_export.py) at CI size: each runs
whole on the test session's PostgreSQL server and Firestore emulator, prints its ratio, and its
own checks hold: after erasure nothing of the user is left anywhere and the neighbours are as
they were; an export's ZIP holds every record of the user. The timings mean nothing here."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.engine import make_url

from tests.support.firestore_emulator import FirestoreEmulator

BENCH = Path(__file__).resolve().parents[3] / "bench"
TINY = ["--rows", "500", "--docs", "50", "--objects", "5", "--object-kib", "4", "--rounds", "1"]


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The bench folder as its scripts see it (they import their neighbours by name)."""
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("privacy_erase")


@pytest.fixture
def server(database_url: str) -> str:
    """The session's server: each bench makes and drops a scratch database of its own there."""
    return make_url(database_url).render_as_string(hide_password=False)


def test_the_erasure_bench_leaves_nothing_of_the_heavy_user(
    bench: ModuleType,
    server: str,
    firestore_emulator: FirestoreEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = bench.main([*TINY, "--database-url", server])

    printed = capsys.readouterr().out
    assert "RESULT privacy_erase ratio=" in printed
    assert out["ratio"] > 0
    assert out["firestore"]
    assert set(out["left"]) == {"job", "bare"}
    for left in out["left"].values():
        assert "firestore" in left
        assert "privacy_exports" in left
        assert sum(left.values()) == 0, left


def test_the_export_bench_zips_every_record_of_the_heavy_user(
    bench: ModuleType,
    server: str,
    firestore_emulator: FirestoreEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = importlib.import_module("privacy_export")

    out = export.main([*TINY, "--database-url", server])

    printed = capsys.readouterr().out
    assert "RESULT privacy_export ratio=" in printed
    assert out["ratio"] > 0
    assert out["expected"]["focus_sessions"] > 100
    assert out["expected"]["firestore_sessions"] > 10
    assert out["job_zip"] == out["expected"]
    assert out["bare_zip"] == out["expected"]
    assert set(out["peak"]) == {"job", "bare"}
