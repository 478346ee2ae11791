"""Exporting a heavy user through the privacy job, against a bare script reading the same rows to
JSON and zipping them; and the peak memory of each, to show the export is streamed.

The heavy user is `heavy_user.py`'s (N Postgres rows, D legacy Firestore documents, the
archives of earlier exports; neighbours beside), loaded once: an export changes none of it.

Job: `PrivacyRequests.open(EXPORT)` as staff open it, then `PrivacyRunner.run_all`: a part per
kind of data (JSON, and a CSV copy of each table) staged in the bucket (a `LocalFileStore`), then
the ZIP with README and manifest. Bare: one script reading each exported table through a
server-side cursor and each legacy collection through the synchronous Firestore client, every
record as a JSON line into its entry of one deflated ZIP written in place (then fsynced). Rounds
alternate which goes first, after a warm-up of each; every archive is checked to hold every
record of the user. Then one more run of each under tracemalloc (not timed): the peak of Python
memory, against the JSON bytes the archive holds.
Last line: `RESULT privacy_export ratio=<median over rounds of bare time / job time>`.

    .venv/bin/python bench/privacy_export.py [--rows 50000] [--docs 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from heavy_user import HeavyUser, Sizes, add_arguments, environment  # noqa: E402
from timing import Results, Run  # noqa: E402


def exported(user: HeavyUser) -> list[Any]:
    """The registry entries an export carries in this deployment (no Firebase Auth here)."""
    from domain.privacy.model import RequestKind
    from domain.privacy.steps import entries_for
    from domain.user_data import DataStore

    stores = {DataStore.POSTGRES} | ({DataStore.FIRESTORE} if user.firestore else set())
    return [entry for entry in entries_for(RequestKind.EXPORT) if entry.store in stores]


def bare_export(user: HeavyUser, conn: Any, target: Path) -> int:
    """Every exported record as JSON, one entry per kind, in one ZIP: nothing else."""
    from psycopg import sql
    from psycopg.rows import dict_row

    from domain.user_data import DataStore

    records = 0

    def write(out: Any, rows: Any) -> None:
        nonlocal records
        out.write(b"[\n")
        for n, row in enumerate(rows):
            encoded = json.dumps(row, default=str, ensure_ascii=False).encode()
            out.write((b",\n" if n else b"") + encoded)
            records += 1
        out.write(b"\n]\n")

    with target.open("wb") as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in exported(user):
                with archive.open(f"{entry.name}.json", "w") as out:
                    if entry.store is DataStore.POSTGRES:
                        key = "uid" if entry.location == "users" else "user_id"
                        query = sql.SQL("SELECT * FROM {} WHERE {} = %s").format(
                            sql.Identifier(entry.location), sql.Identifier(key)
                        )
                        with conn.cursor(name="export", row_factory=dict_row) as cur:
                            cur.itersize = 2_000
                            cur.execute(query, (user.uid,))
                            write(out, cur)
                    else:
                        write(out, documents(user, entry.location))
        raw.flush()
        os.fsync(raw.fileno())
    conn.commit()
    return records


def documents(user: HeavyUser, location: str) -> Any:
    profile = user.firestore.collection("users").document(user.uid)
    if location == "users":
        snapshot = profile.get()
        yield {"id": user.uid, **(snapshot.to_dict() or {})}
        return
    for snapshot in profile.collection(location).recursive().stream():
        yield {"id": snapshot.reference.path, **(snapshot.to_dict() or {})}


async def job_export(user: HeavyUser) -> tuple[float, Path]:
    from domain.privacy.model import Channel, RequestKind, RequestState, Verification
    from privacy.exports import archive_key

    began = time.perf_counter()
    # As staff open it: the app's own would get the previous round's archive back (a day apart).
    verified = Verification("bench", "bench", user.container.privacy.now())
    opened = await user.container.privacy.open(
        RequestKind.EXPORT, user.uid, by="bench", channel=Channel.SUPPORT, verification=verified
    )
    await user.container.privacy_runner.run_all(opened.request.id)
    seconds = time.perf_counter() - began
    request = await user.container.privacy.get(opened.request.id)
    if request.state is not RequestState.COMPLETED:
        raise SystemExit(f"the export ended {request.state}")
    return seconds, user.files_root / archive_key(request.id)


ONE_DOCUMENT = ("manifest.json", "derived_stats.json")


def records_in(archive: Path) -> tuple[dict[str, int], int]:
    """Records per kind in an archive's JSON files, and their bytes."""
    counts, size = {}, 0
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            # Records, not the one-document parts (the manifest, what is derived from records).
            if info.filename.endswith(".json") and info.filename not in ONE_DOCUMENT:
                counts[info.filename.removesuffix(".json")] = len(json.loads(z.read(info)))
                size += info.file_size
    return counts, size


def check(name: str, archive: Path, expected: dict[str, int]) -> tuple[dict[str, int], int]:
    found, size = records_in(archive)
    if found != expected:
        wrong = {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v}
        raise SystemExit(f"{name}'s archive lacks records (found, expected): {wrong}")
    return found, size


async def peak(run: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
    """The peak of Python memory while `run` runs (tracemalloc: what was held at once)."""
    tracemalloc.start()
    try:
        result = await run()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


async def bench(user: HeavyUser, sizes: Sizes, rounds: int) -> dict[str, Any]:
    import psycopg

    records = await user.load(sizes)
    expected = {entry.name: user.seeded[entry.name] for entry in exported(user)}
    total = sum(expected.values())
    bare_zip = user.files_root / "bare-export.zip"
    conn = psycopg.connect(user.url)
    results = Results()
    out: dict[str, Any] = {"expected": expected, "records": records}

    async def job() -> tuple[float, Path]:
        return await job_export(user)

    async def bare() -> tuple[float, Path]:
        began = time.perf_counter()
        bare_export(user, conn, bare_zip)
        return time.perf_counter() - began, bare_zip

    contenders = {"job": job, "bare": bare}
    try:
        for r in range(-1, rounds):  # -1: the warm-up
            for name in ("job", "bare") if r % 2 == 0 else ("bare", "job"):
                seconds, archive = await contenders[name]()
                out[f"{name}_zip"], out[f"{name}_json_bytes"] = check(name, archive, expected)
                out[f"{name}_zip_bytes"] = archive.stat().st_size
                archive.unlink()
                if r >= 0:
                    results.add(name, Run(total, seconds))
        out["peak"] = {}
        for name, run in contenders.items():  # the checks' reads not included
            out["peak"][name], (_, archive) = await peak(run)
            archive.unlink()
    finally:
        conn.close()
    return out | {"results": results}


def report(sizes: Sizes, where: str, out: dict[str, Any]) -> float:
    results: Results = out["results"]
    job, bare = results.runs["job"], results.runs["bare"]
    mib = 1024 * 1024
    print(
        f"privacy_export: one user with {sizes.rows} Postgres rows and {sizes.docs} Firestore"
        f" documents; {sum(out['expected'].values())} exported records in"
        f" {len(out['expected'])} kinds; {len(job)} alternating rounds after a warm-up; {where}"
    )
    print(f"{'export':6} {'median s':>9} {'records/s':>10} {'peak MiB':>9}  rounds (s)")
    for name, runs in results.runs.items():
        median = statistics.median(r.seconds for r in runs)
        rounds = " ".join(f"{r.seconds:.2f}" for r in runs)
        memory = out["peak"][name] / mib
        print(f"{name:6} {median:9.2f} {results.rate(name):10.0f} {memory:9.1f}  {rounds}")
    print(
        f"archives: job {out['job_zip_bytes'] / mib:.1f} MiB zipped, its JSON"
        f" {out['job_json_bytes'] / mib:.1f} MiB (and a CSV copy of each table); bare"
        f" {out['bare_zip_bytes'] / mib:.1f} MiB zipped, JSON {out['bare_json_bytes'] / mib:.1f}"
        " MiB; peak: tracemalloc's, in a run of its own"
    )
    per_round = [b.seconds / j.seconds for j, b in zip(job, bare, strict=True)]
    ratio = statistics.median(per_round)
    shown = " ".join(f"{x:.2f}" for x in per_round)
    print(f"bare/job time {ratio:.2f} (rounds: {shown}; goal >= 0.5)")
    print(f"RESULT privacy_export ratio={ratio:.2f}")
    return ratio


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    sizes = Sizes.of(args)
    with environment(args) as env:
        out: dict[str, Any] = env.run(lambda user: bench(user, sizes, args.rounds))
    out["ratio"] = report(sizes, env.where, out)
    out["firestore"] = env.firestore
    return out


if __name__ == "__main__":
    main()
