"""Erasing a heavy user through the privacy job, against a bare script doing the same deletes.

The heavy user is `heavy_user.py`'s (N Postgres rows, D legacy Firestore documents, F archives
in the bucket, twenty neighbours that must come out untouched).

Job: `PrivacyRequests.open_from_app(ERASURE)`, then `PrivacyRunner.run_all` (every step, the
verification scan included) on `app.bootstrap.build`'s container. Bare: one script with the
same effect: the uid on the erased list, Firestore's `recursive_delete` of `users/{uid}` (its
BulkWriter unthrottled), the archives unlinked, one transaction of a DELETE or UPDATE per table.
Every run starts from an identical fresh copy (truncated, loaded again, vacuumed: not timed);
rounds alternate which goes first, after a warm-up at a tenth of the sizes; every run is checked
to leave nothing of the user and every neighbour's records as they were.
Last line: `RESULT privacy_erase ratio=<median over rounds of bare time / job time>`.

    .venv/bin/python bench/privacy_erase.py [--rows 50000] [--docs 5000] [--objects 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from heavy_user import (  # noqa: E402
    HeavyUser,
    Sizes,
    add_arguments,
    environment,
    unthrottled,
)
from timing import Results, Run  # noqa: E402

# ---- erasure ------------------------------------------------------------------------------------

BARE_SCRUBS = (
    "DELETE FROM scheduled_tasks WHERE payload->>'user_id' = %(uid)s",
    "DELETE FROM backfill_quarantine WHERE uid = %(uid)s",
    "UPDATE failed_messages SET attributes = attributes - 'user_id' - 'path', data = ''::bytea,"
    " replayed_at = coalesce(replayed_at, now()) WHERE attributes->>'user_id' = %(uid)s",
    "UPDATE migration_verifications m SET examples = (SELECT jsonb_object_agg(k, (SELECT"
    " coalesce(jsonb_agg(CASE WHEN e = %(uid)s OR starts_with(e, %(uid)s || '/')"
    " THEN to_jsonb('erased'::text) ELSE to_jsonb(e) END ORDER BY o), '[]'::jsonb)"
    " FROM jsonb_array_elements_text(v) WITH ORDINALITY AS x(e, o)))"
    " FROM jsonb_each(m.examples) AS j(k, v))"
    " WHERE examples::text LIKE %(exact)s OR examples::text LIKE %(prefix)s",
    "UPDATE privacy_requests SET subject_uid = NULL WHERE subject_uid = %(uid)s"
    " AND state IN ('completed', 'refused', 'cancelled')",
)


def bare_erase(user: HeavyUser, conn: Any) -> int:
    """What the job does, as a script would: no request, steps, audit or scan."""
    from domain.user_data import DataStore, Erasure, in_store

    uid, erased = user.uid, 0
    conn.execute("INSERT INTO erased_users VALUES (%s, now()) ON CONFLICT DO NOTHING", (uid,))
    conn.commit()
    if user.firestore is not None:
        erased += user.firestore.recursive_delete(
            user.firestore.collection("users").document(uid),
            bulk_writer=unthrottled(user.firestore),
        )
    exports = conn.execute(
        "SELECT id FROM privacy_requests WHERE subject_uid = %s AND kind = 'export'", (uid,)
    ).fetchall()
    for (request_id,) in exports:
        archive = user.files_root / "privacy" / "exports" / f"{request_id}.zip"
        if archive.exists():
            archive.unlink()
            erased += 1
    params = {"uid": uid, "exact": f'%"{uid}"%', "prefix": f'%"{uid}/%'}
    with conn.transaction():
        for entry in in_store(DataStore.POSTGRES):
            if entry.erasure is Erasure.CASCADE:
                delete = f"DELETE FROM {entry.location} WHERE user_id = %(uid)s"  # noqa: S608
                erased += conn.execute(delete, params).rowcount
        for statement in BARE_SCRUBS:
            erased += conn.execute(statement, params).rowcount
        erased += conn.execute("DELETE FROM users WHERE uid = %(uid)s", params).rowcount
    conn.commit()
    return erased


async def job_erase(user: HeavyUser) -> tuple[float, UUID]:
    from domain.privacy.model import RequestKind, RequestState

    began = time.perf_counter()
    opened = await user.container.privacy.open_from_app(RequestKind.ERASURE, user.uid)
    await user.container.privacy_runner.run_all(opened.request.id)
    seconds = time.perf_counter() - began
    request = await user.container.privacy.get(opened.request.id)
    if request.state is not RequestState.COMPLETED:
        raise SystemExit(f"the erasure ended {request.state}")
    return seconds, opened.request.id


async def step_times(user: HeavyUser, request_id: UUID) -> list[tuple[float, str, int]]:
    """Each step's time (from one `done_at` to the next) and count, slowest first."""
    request = await user.container.privacy.get(request_id)
    previous, times = request.received_at, []
    for step in await user.container.privacy.steps(request_id):
        assert step.done_at is not None
        seconds = (step.done_at - previous).total_seconds()
        times.append((seconds, step.name, step.count or 0))
        previous = step.done_at
    return sorted(times, reverse=True)


async def bench(user: HeavyUser, sizes: Sizes, rounds: int) -> dict[str, Any]:
    import psycopg

    conn = psycopg.connect(user.url)
    results, left, slowest = Results(), {}, []
    try:
        for r in range(-1, rounds):  # -1: the warm-up
            for name in ("job", "bare") if r % 2 == 0 else ("bare", "job"):
                records = await user.load(sizes if r >= 0 else sizes.scaled(0.1))
                neighbours = await user.neighbours_records()
                if name == "job":
                    seconds, request_id = await job_erase(user)
                    slowest = await step_times(user, request_id)
                else:
                    began = time.perf_counter()
                    bare_erase(user, conn)
                    seconds = time.perf_counter() - began
                left[name] = await user.left()
                if sum(left[name].values()):
                    raise SystemExit(f"{name} left data of the user: {left[name]}")
                if await user.neighbours_records() != neighbours:
                    raise SystemExit(f"{name} changed a neighbour's data")
                if r >= 0:
                    results.add(name, Run(records, seconds))
    finally:
        conn.close()
    return {"results": results, "left": left, "slowest": slowest}


def report(sizes: Sizes, where: str, out: dict[str, Any]) -> float:
    results: Results = out["results"]
    job, bare = results.runs["job"], results.runs["bare"]
    print(
        f"privacy_erase: one user with {sizes.rows} Postgres rows, {sizes.docs} Firestore"
        f" documents, {sizes.objects} bucket objects ({job[0].count} records); {len(job)}"
        f" alternating rounds after a warm-up; {where}"
    )
    print(f"{'erase':5} {'median s':>9} {'records/s':>10}  rounds (s)")
    for name, runs in results.runs.items():
        median = statistics.median(r.seconds for r in runs)
        rounds = " ".join(f"{r.seconds:.2f}" for r in runs)
        print(f"{name:5} {median:9.2f} {results.rate(name):10.0f}  {rounds}")
    per_round = [b.seconds / j.seconds for j, b in zip(job, bare, strict=True)]
    ratio = statistics.median(per_round)
    shown = " ".join(f"{x:.2f}" for x in per_round)
    print(f"bare/job time {ratio:.2f} (rounds: {shown}; goal >= 0.5)")
    top = ", ".join(f"{name} {s:.2f} s ({count})" for s, name, count in out["slowest"][:5])
    print(f"the job's slowest steps (its last run; records): {top}")
    print(f"RESULT privacy_erase ratio={ratio:.2f}")
    return ratio


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    sizes = Sizes.of(args)
    with environment(args) as env:
        out = env.run(lambda user: bench(user, sizes, args.rounds))
    out["ratio"] = report(sizes, env.where, out)
    out["firestore"] = env.firestore
    return out


if __name__ == "__main__":
    main()
