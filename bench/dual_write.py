"""What dual writes cost a write: starting a focus session in `dual_write_read_postgres`
against `postgres_only`, through the whole app (auth, use case, outbox, idempotency).

One app, built as production builds it with FOCUS_LEGACY_FIRESTORE (phases from the phase
table, the official Firestore emulator, a scratch database), serves both modes; only the
focus sessions' phase changes between interleaved rounds. In `dual_write_read_postgres` a
start also stores its pending mirror in the same transaction, and the Firestore write runs
after the response (it competes for the same CPU, as it would in production). Requests go
through httpx's in-process ASGI transport one at a time: latency, not throughput. Each start
is for a user without a running session (the previous one is ended, not timed).

    .venv/bin/python bench/dual_write.py [--rounds 6] [--starts 150]

Last line: `RESULT dual_write ratio=<p50 dual / p50 single>` (target ≤ 1.6).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch_db import scratch_database  # noqa: E402  (beside this file)

USERS = 40
BACKGROUND = {"postgres_only": 0.0, "dual_write_read_postgres": 0.0}
"""CPU seconds spent after the timed responses, waiting for their Firestore mirrors."""


async def measure(url: str, rounds: int, starts: int) -> dict[str, list[float]]:
    import httpx
    import psycopg

    from app.bootstrap import build, build_app
    from app.settings import AuthMode, Environment, Settings
    from domain.migration import Phase
    from identity.dev_issuer import DevTokenIssuer, load_or_create_secret

    data = Path(tempfile.mkdtemp(prefix="focus-bench-data-"))
    settings = Settings(
        env=Environment.TEST,
        auth=AuthMode.DEV,
        data_dir=data,
        legacy_firestore=True,
        firebase_project_id="demo-focus",
        relay_in_process=False,
        task_worker_in_process=False,
        mirror_repair_in_process=False,
        log_level="WARNING",
    )
    container = build(settings, url)
    app = build_app(container)
    issuer = DevTokenIssuer(load_or_create_secret(Path(settings.dev_secret_path)))
    headers = [
        {
            "Authorization": f"Bearer {issuer.issue(f'bench-{n}')}",
            "X-Platform": "ios",
            "X-App-Version": "4.2.0",
        }
        for n in range(USERS)
    ]
    assert container.migration is not None
    reader = container.migration.phases

    async def set_phase(phase: Phase) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO migration_phases (entity, phase, changed_at, changed_by)"
                " VALUES ('focus_sessions', %s, now(), 'bench') ON CONFLICT (entity)"
                " DO UPDATE SET phase = excluded.phase",
                (phase.value,),
            )
        await reader.refresh()

    timings: dict[str, list[float]] = {"postgres_only": [], "dual_write_read_postgres": []}
    background_cpu = BACKGROUND
    mirroring = container.migration.mirroring
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
    ):
        running: dict[int, str] = {}

        async def one_round(label: str, n: int, timed: bool) -> None:
            for i in range(n):
                user = i % USERS
                if user in running:
                    ended = await client.post(
                        f"/v1/focus-sessions/{running.pop(user)}/end",
                        headers=headers[user],
                        json={"outcome": "abandoned", "ended_at": now_iso()},
                    )
                    assert ended.status_code == 200, ended.text
                    await mirroring.drain_background()
                began = time.perf_counter()
                started = await client.post(
                    "/v1/focus-sessions",
                    headers=headers[user],
                    json={"planned_duration_minutes": 25},
                )
                elapsed = time.perf_counter() - began
                assert started.status_code == 201, started.text
                running[user] = started.json()["id"]
                if timed:
                    timings[label].append(elapsed)
                # The Firestore write runs after the response; it finishes before the next
                # request so that it is not counted in that request's latency (its cost is
                # the CPU line below).
                cpu = time.process_time()
                await mirroring.drain_background()
                background_cpu[label] += time.process_time() - cpu

        for phase in (Phase.POSTGRES_ONLY, Phase.DUAL_WRITE_READ_POSTGRES):  # warm-up
            await set_phase(phase)
            await one_round(phase.value, USERS * 2, timed=False)
        await container.migration.mirroring.drain_background()
        for r in range(rounds):
            order = [Phase.POSTGRES_ONLY, Phase.DUAL_WRITE_READ_POSTGRES]
            for phase in order if r % 2 == 0 else reversed(order):
                await set_phase(phase)
                await one_round(phase.value, starts, timed=True)
                await container.migration.mirroring.drain_background()
            print(
                f"round {r + 1}: p50 single {p50ms(timings['postgres_only']):.2f} ms,"
                f" dual {p50ms(timings['dual_write_read_postgres']):.2f} ms",
                flush=True,
            )
        with psycopg.connect(url) as conn:
            (pending,) = conn.execute("SELECT count(*) FROM pending_mirrors").fetchone() or (0,)
        print(f"mirrors still pending after the run: {pending}")
    shutil.rmtree(data, ignore_errors=True)
    return timings


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def p50ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--starts", type=int, default=150, help="timed starts per mode and round")
    args = parser.parse_args()

    from tests.support.firestore_emulator import FirestoreEmulator, _gcloud
    from tests.support.processes import free_port

    with (
        tempfile.TemporaryDirectory(prefix="focus-bench-firestore-") as workdir,
        scratch_database(os.environ.get("DATABASE_URL")) as url,
    ):
        emulator = FirestoreEmulator(_gcloud(), Path(workdir), f"127.0.0.1:{free_port()}")
        emulator.start()
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        try:
            timings = asyncio.run(measure(url, args.rounds, args.starts))
        finally:
            emulator.close()
    single, dual = timings["postgres_only"], timings["dual_write_read_postgres"]
    cpu = {label: spent / max(1, len(timings[label])) * 1000 for label, spent in BACKGROUND.items()}
    print(
        f"CPU of this process after the responses, per start (its Firestore mirror):"
        f" {cpu['postgres_only']:.2f} ms vs {cpu['dual_write_read_postgres']:.2f} ms"
    )
    print(
        f"focus-session start, {len(single)} per mode: p50 postgres_only {p50ms(single):.2f} ms,"
        f" dual_write_read_postgres {p50ms(dual):.2f} ms;"
        f" p90 {statistics.quantiles(single, n=10)[-1] * 1000:.2f} ms vs"
        f" {statistics.quantiles(dual, n=10)[-1] * 1000:.2f} ms"
    )
    print(f"RESULT dual_write ratio={statistics.median(dual) / statistics.median(single):.2f}")


if __name__ == "__main__":
    main()
