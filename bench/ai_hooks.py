"""The `ai` consumer's throughput against the bare feature computation, and event → stored
suggestion latency, on the embedded default (local provider).

On a scratch database (DATABASE_URL's server, else an embedded PostgreSQL), migrated: N people
with AI features on, each with two completed morning sessions and a third that ends now.

- **Ours**: each third session's `focus_session.completed` event through the app's consumer
  (`EventConsumer.receive` on the `ai` subscription, as a Pub/Sub push is received): decode,
  the processed-events record, the person's profile, sessions and schedules, the week's
  features, the pending-suggestion check, the day's cap, the local provider, the suggestion
  stored with its version and `insight.created` event. Every event makes a suggestion.
- **Bare**: the least a suggestion needs: the same person's sessions and schedules read
  through the same unit of work, the features computed, the local provider's suggestion; no
  consumer, no checks, no writes.
- Rounds alternate which goes first; before each, the results, caps, processed events and
  outbox are emptied, so that every round does the same work.
- **Latency**: with the relay running as under `focus serve` (polling an empty outbox every
  0.5 s), K people end their third session one after another; the time from the end's commit
  to the suggestion's row, p50/p95/max.

    .venv/bin/python bench/ai_hooks.py [--people 300] [--rounds 3] [--latency 40]

Last lines: `RESULT ai_consumer ratio=<ours/bare>` (goal ≥ 0.5) and `RESULT ai_latency p95=<s>`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch_db import scratch_database  # noqa: E402  (beside this file)
from timing import Results, Run  # noqa: E402

WEDNESDAY = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
EMPTIED = "TRUNCATE ai_insights, ai_result_counts, processed_events, outbox_events"


class Clock:
    """Held still while people are seeded; the bench moves it."""

    def __init__(self) -> None:
        self.now = WEDNESDAY

    def __call__(self) -> datetime:
        return self.now


async def seed(container: object, clock: Clock, people: int) -> list[tuple[str, object]]:
    """People with two completed morning sessions and a third running: (uid, third's id)."""
    from domain.focus_sessions.model import Outcome, SessionEnd, SessionStart
    from domain.focus_sessions.use_cases import end_focus_session, start_focus_session
    from domain.users.model import ProfileChanges
    from domain.users.use_cases import ensure_user, update_profile

    uow_of = container.services.unit_of_work  # type: ignore[attr-defined]
    seeded = []
    for _ in range(people):
        uid = f"bench-{uuid.uuid4().hex[:16]}"
        async with uow_of() as uow:
            await ensure_user(uow, uid)
            changes = ProfileChanges(consents={"ai_features": True})
            await update_profile(uow, uid, changes, expected_version=None, clock=clock)
            await uow.commit()
        third = None
        for day in (2, 1, 0):
            clock.now = WEDNESDAY - timedelta(days=day, hours=3)
            async with uow_of() as uow:
                start = SessionStart(planned_duration_minutes=50, timezone="UTC")
                session, _ = await start_focus_session(uow, uid, start, clock=clock)
                await uow.commit()
            if day == 0:
                third = session.id
                break
            clock.now += timedelta(minutes=50)
            async with uow_of() as uow:
                end = SessionEnd(Outcome.COMPLETED, clock.now)
                await end_focus_session(
                    uow, uid, session.id, end, expected_version=None, clock=clock
                )
                await uow.commit()
        seeded.append((uid, third))
    clock.now = WEDNESDAY - timedelta(hours=2)
    return seeded


async def end_thirds(container: object, clock: Clock, seeded: list[tuple[str, object]]) -> list:
    """Ends each third session; the events their ends wrote (taken out of the outbox)."""
    from domain.focus_sessions.model import Outcome, SessionEnd
    from domain.focus_sessions.use_cases import end_focus_session

    events = []
    for uid, session_id in seeded:
        async with container.services.unit_of_work() as uow:  # type: ignore[attr-defined]
            end = SessionEnd(Outcome.COMPLETED, clock.now)
            ended = await end_focus_session(
                uow, uid, session_id, end, expected_version=None, clock=clock
            )
            await uow.commit()
        events.append((uid, ended))
    return events


async def measure(args: argparse.Namespace, url: str) -> None:
    from sqlalchemy import text

    from ai.hooks import features_of, week_of
    from ai.local import LocalProvider
    from app.bootstrap import build
    from app.settings import AuthMode, Environment, Settings
    from domain.consumers import ReceivedMessage, Verdict
    from domain.events import DomainEvent, EventType
    from events.codec import encode
    from events.runner import relay_until

    clock = Clock()
    folder = tempfile.mkdtemp(prefix="focus-bench-ai-")
    settings = Settings(env=Environment.TEST, auth=AuthMode.DEV, data_dir=Path(folder),
                        relay_in_process=False, task_worker_in_process=False)  # fmt: skip
    container = build(settings, url, clock=clock)
    try:
        seeded = await seed(container, clock, args.people)
        ended = await end_thirds(container, clock, seeded)
        messages = [
            ReceivedMessage("ai", encode(DomainEvent(
                EventType.FOCUS_SESSION_COMPLETED, uid, str(s.id), s.version, clock.now)))
            for uid, s in ended
        ]  # fmt: skip
        local = LocalProvider()

        async def ours() -> int:
            for message in messages:
                verdict = await container.consumer.receive(message)
                assert verdict is Verdict.ACK
            async with container.engine.connect() as conn:
                made = (await conn.execute(text("SELECT count(*) FROM ai_insights"))).scalar()
            assert made == len(messages), f"{made} suggestions for {len(messages)} events"
            return len(messages)

        async def bare() -> int:
            for uid, session in ended:
                async with container.services.unit_of_work() as uow:
                    features = await features_of(uow, uid, week_of(session.local_date))
                await local.schedule_suggestion(features)
            return len(ended)

        async def fresh() -> None:
            async with container.engine.begin() as conn:
                await conn.execute(text(EMPTIED))
            # New event ids: the processed-events record would otherwise skip them.
            messages[:] = [
                ReceivedMessage("ai", encode(DomainEvent(
                    EventType.FOCUS_SESSION_COMPLETED, uid, str(s.id), s.version, clock.now)))
                for uid, s in ended
            ]  # fmt: skip

        results = Results()
        await fresh()
        await ours()  # warm-up
        await bare()
        for n in range(args.rounds):
            order = [("ours", ours), ("bare", bare)]
            for name, run in order if n % 2 == 0 else reversed(order):
                await fresh()
                cpu, started = time.process_time(), time.perf_counter()
                count = await run()
                results.add(name, Run(count, time.perf_counter() - started,
                                      time.process_time() - cpu))  # fmt: skip

        latencies = await latency(container, clock, args.latency, relay_until)
    finally:
        await container.aclose()

    print(f"people={args.people} rounds={args.rounds} (local provider, embedded default path)")
    for name in ("ours", "bare"):
        runs = results.runs[name]
        ms = 1000 * sum(r.seconds for r in runs) / sum(r.count for r in runs)
        print(f"{name:5} {results.rate(name):8.0f} events/s  {ms:6.2f} ms/event")
    print(results.ratio_line("ours", "bare", "ours/bare"))
    p50 = statistics.median(latencies)
    p95 = (
        statistics.quantiles(latencies, n=20, method="inclusive")[-1]
        if len(latencies) >= 2
        else latencies[0]
    )
    print(f"event → stored suggestion, relay polling every 0.5 s: n={len(latencies)}"
          f" p50={p50:.3f}s p95={p95:.3f}s max={max(latencies):.3f}s")  # fmt: skip
    print(f"RESULT ai_consumer ratio={results.ratio('ours', 'bare'):.2f}")
    print(f"RESULT ai_latency p95={p95:.3f}")


async def latency(container: object, clock: Clock, people: int, relay_until: object) -> list:
    """Seconds from each end's commit to its suggestion's row, the relay running meanwhile."""
    from sqlalchemy import text

    seeded = await seed(container, clock, people)
    stop = asyncio.Event()
    relay = asyncio.create_task(relay_until(stop, container.relay))  # type: ignore[attr-defined,operator]
    found = text("SELECT 1 FROM ai_insights WHERE user_id = :uid")
    seconds = []
    try:
        for person in seeded:
            started = time.perf_counter()
            await end_thirds(container, clock, [person])
            while True:
                async with container.engine.connect() as conn:  # type: ignore[attr-defined]
                    if (await conn.execute(found, {"uid": person[0]})).first():
                        break
                await asyncio.sleep(0.002)
            seconds.append(time.perf_counter() - started)
    finally:
        stop.set()
        await relay
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=300, help="events per measured run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=int, default=40, help="people in the latency run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    with scratch_database(args.database_url) as url:
        asyncio.run(measure(args, url))


if __name__ == "__main__":
    main()
