"""A seeded soak of the migration layer, sized for CI: app users write blocklists through a real
`focus serve` (FOCUS_LEGACY_FIRESTORE, every entity in dual writes, reads moving from Firestore
to Postgres halfway) while an old app writes the same users' blocklists straight to Firestore,
its changes pushed to /internal/pubsub/legacy-sync as the Cloud Function and Pub/Sub would.
At seeded moments Firestore becomes unreachable for a few seconds and the server is SIGKILLed
and started again. Then the backlog of pending mirrors is drained, `focus migrate verify --full`
must find both stores equal, and every acknowledged write must be readable at its version or a
newer one in Postgres and in Firestore (`_v`).

FOCUS_SOAK_SEED replays a run (the faults' schedule and every actor's choices; the threads'
interleaving is the machine's), FOCUS_SOAK_SECONDS sets its length (`make soak`).

Firestore's outage is a cut relay between the server and the emulator (`soak.Link`): the
emulator's own stop exports its data and then exits, and writes it acknowledges in between
would be lost on restart, which no real Firestore does. The old app is offline during an
outage (it could not reach Firestore either).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from google.cloud import firestore
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings
from domain.migration import Entity, Phase
from identity.dev_issuer import DevTokenIssuer, load_or_create_secret
from migration.postgres.migration_phases import CHANNEL
from tests.integration.migration.dual_write_app import dual_write_app
from tests.integration.migration.soak import Ack, Actor, ApiWriter, Ledger, Link, OldApp
from tests.support.clock import TestClock
from tests.support.firestore_emulator import FirestoreEmulator
from tests.support.processes import free_port
from tests.support.server import FocusServe, running_focus_serve

SEED = int(os.environ.get("FOCUS_SOAK_SEED", "20261203"))
SECONDS = float(os.environ.get("FOCUS_SOAK_SECONDS", "30"))
REPLAY = f"replay: FOCUS_SOAK_SEED={SEED} FOCUS_SOAK_SECONDS={SECONDS:g}"
API_USERS = 3
APP = {"X-Platform": "ios", "X-App-Version": "4.2.0"}


@dataclass(frozen=True)
class Fault:
    at: float  # seconds into the run
    kind: str  # "kill" | "outage" | "reads_move"
    length: float  # seconds down


def schedule(rng: random.Random, seconds: float) -> list[Fault]:
    kills = [
        Fault(rng.uniform(0.1, 0.9) * seconds, "kill", rng.uniform(0, 2))
        for _ in range(max(1, int(seconds // 15)))
    ]
    outages = [
        Fault(rng.uniform(0.1, 0.9) * seconds, "outage", rng.uniform(2, 5))
        for _ in range(max(1, int(seconds // 20)))
    ]
    move = Fault(rng.uniform(0.35, 0.65) * seconds, "reads_move", 0)
    return sorted([*kills, *outages, move], key=lambda fault: fault.at)


class Server:
    """`focus serve` on one port, killed and started again as often as the soak says."""

    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env, self.root, self.port = env, root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lives: list[FocusServe] = []
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        cwd = self.root / f"serve-{len(self.lives)}"
        cwd.mkdir()
        self.lives.append(
            self._stack.enter_context(running_focus_serve(self.env, cwd, port=self.port))
        )

    def kill(self) -> None:
        self.lives[-1].stop(signal.SIGKILL)

    def close(self) -> None:
        self._stack.close()

    def logs(self) -> str:
        return "\n".join(f"--- {life.log}:\n{life.log.read_text()[-3000:]}" for life in self.lives)


def set_phases(database: str, phase: Phase) -> None:
    """Every entity in `phase`, announced to the servers listening (as DualWriteApp does)."""
    with psycopg.connect(database, autocommit=True) as conn:
        for entity in Entity:
            conn.execute(
                "INSERT INTO migration_phases (entity, phase, changed_at, changed_by)"
                " VALUES (%s, %s, now(), 'soak') ON CONFLICT (entity)"
                " DO UPDATE SET phase = excluded.phase",
                (entity.value, phase.value),
            )
        conn.execute(f"NOTIFY {CHANNEL}")


@contextlib.contextmanager
def held(actor: Actor) -> Iterator[None]:
    actor.paused.set()
    assert actor.idle.wait(120), f"{type(actor).__name__} did not pause ({REPLAY})"
    try:
        yield
    finally:
        actor.paused.clear()


def test_every_acknowledged_write_survives_outages_and_crashes(
    database: str,
    settings: Settings,
    clock: TestClock,
    empty_firestore: FirestoreEmulator,
    tmp_path: Path,
) -> None:
    print(f"soak {REPLAY}")
    rng = random.Random(SEED)
    faults = schedule(rng, SECONDS)
    set_phases(database, Phase.DUAL_WRITE_READ_FIRESTORE)
    link = Link(empty_firestore.host)
    server = Server(server_env(database, empty_firestore, link, tmp_path), tmp_path)
    ledger, timeline = Ledger(), list[str]()
    issuer = DevTokenIssuer(load_or_create_secret(tmp_path / "data" / "dev-token-secret"))
    fs = empty_firestore.client()
    legacy_only = f"L{rng.getrandbits(108):027x}"  # shaped like a Firebase uid
    users = [f"soak-{SEED}-{n}" for n in range(API_USERS)]
    try:
        server.start()
        old = OldApp(
            random.Random(f"{SEED}/old"), ledger, url=server.url, uids=[legacy_only, *users],
            client=fs, database_url=database,
        )  # fmt: skip
        old.create_profile(legacy_only)
        with acting([*api_writers(server.url, users, issuer, ledger), old]):
            run_faults(faults, server, link, old, database, timeline)
        server.lives[-1].stop(signal.SIGTERM)
        logs = server.logs()
    finally:
        server.close()
        link.close()

    api = sum(ack.source == "api" for ack in ledger.acks)
    context = (
        f"{REPLAY}\nfaults: {timeline}\nacknowledged: {api} API writes, {old.pushes} old app"
        f" changes\nrefused: {ledger.refused}"
    )
    assert ledger.problems == [], f"{context}\n" + "\n".join(ledger.problems) + f"\n{logs}"
    assert api > 0, f"no API write acknowledged\n{context}"
    assert old.pushes > 0, f"no old app change acknowledged\n{context}"

    drain(settings, database, clock, empty_firestore, context)
    verified = CliRunner().invoke(cli, ["migrate", "verify", "--full", "--settle", "0", "--json"])
    findings = divergences(verified.exit_code, verified.output, ledger, database, fs)
    findings += stale_acknowledgements(ledger, database, fs)
    assert findings == [], f"{context}\n" + "\n".join(findings)


def divergences(
    exit_code: int, output: str, ledger: Ledger, database: str, fs: firestore.Client
) -> list[str]:
    """What `focus migrate verify --full` found different, with what each store holds."""
    try:
        report = json.loads(output)
    except ValueError:
        return [f"focus migrate verify --full exited {exit_code}:\n{output}"]
    found = []
    for entry in report:
        counts = entry["found"]
        if counts["passed"] and not any(
            counts.get(k, 0) for k in ("missing", "extra", "different")
        ):
            continue
        found.append(f"verify {entry['entity']}: {json.dumps(counts, sort_keys=True)}")
        examples = {i for ids in counts.get("examples", {}).values() for i in ids}
        found += [held_by_both(entry["entity"], i, ledger, database, fs) for i in sorted(examples)]
    if exit_code != 0 and not found:
        found.append(f"focus migrate verify --full exited {exit_code}:\n{output}")
    return found


def held_by_both(entity: str, key: str, ledger: Ledger, database: str, fs: firestore.Client) -> str:
    if entity == "users":
        query, path = "SELECT row_to_json(u) FROM users u WHERE uid = %s", f"users/{key}"
    elif entity == "blocklists":
        query = "SELECT row_to_json(b) FROM blocklists b WHERE id::text = %s"
        uid = next((ack.uid for ack in ledger.acks if ack.record == key), "?")
        path = ledger.path(uid, key)
    else:
        return f"  {entity} {key}"
    with psycopg.connect(database) as conn:
        row = conn.execute(query, (key,)).fetchone()
    document = fs.document(path).get().to_dict()
    return f"  {entity} {key}: Postgres holds {row and row[0]}\n    {path} holds {document}"


def api_writers(
    url: str, users: list[str], issuer: DevTokenIssuer, ledger: Ledger
) -> list[ApiWriter]:
    return [
        ApiWriter(
            random.Random(f"{SEED}/{uid}"), ledger, url=url, uid=uid,
            headers={**APP, "Authorization": f"Bearer {issuer.issue(uid)}"},
        )
        for uid in users
    ]  # fmt: skip


@contextlib.contextmanager
def acting(actors: list[Actor]) -> Iterator[None]:
    """Every actor in a thread of its own inside the block; stopped and joined after it."""
    threads = [threading.Thread(target=actor.run, daemon=True) for actor in actors]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for actor in actors:
            actor.stop.set()
        for thread in threads:
            thread.join(120)
            assert not thread.is_alive(), f"an actor did not stop ({REPLAY})"


def server_env(
    database: str, emulator: FirestoreEmulator, link: Link, root: Path
) -> dict[str, str]:
    return {
        "DATABASE_URL": database,
        "FOCUS_ENV": "test",
        "FOCUS_AUTH": "dev",
        "FOCUS_DATA_DIR": str(root / "data"),
        "GOOGLE_CLOUD_PROJECT": emulator.project_id,
        "FIRESTORE_EMULATOR_HOST": link.host,
        "FOCUS_LEGACY_FIRESTORE": "true",
        "FOCUS_RELAY_IN_PROCESS": "true",
        "FOCUS_FIRESTORE_TIMEOUT_SECONDS": "1.5",
        "FOCUS_RATE_LIMITS": "false",
        "FOCUS_MIN_APP_VERSION_IOS": "3.0.0",
    }


def run_faults(
    faults: list[Fault], server: Server, link: Link, old: OldApp, database: str, timeline: list[str]
) -> None:
    started = time.monotonic()
    for fault in faults:
        time.sleep(max(0.0, fault.at - (time.monotonic() - started)))
        timeline.append(f"{time.monotonic() - started:.1f}s {fault.kind} {fault.length:.1f}s")
        if fault.kind == "kill":
            server.kill()
            time.sleep(fault.length)
            server.start()
        elif fault.kind == "outage":
            with held(old):
                link.cut()
                time.sleep(fault.length)
                link.restore()
        else:
            set_phases(database, Phase.DUAL_WRITE_READ_POSTGRES)
    time.sleep(max(0.0, SECONDS - (time.monotonic() - started)))


def drain(
    settings: Settings, database: str, clock: TestClock, emulator: FirestoreEmulator, context: str
) -> None:
    """The repair loop's passes, time moving on past every grace and backoff, until no mirror
    is pending (a new process: what the killed servers left)."""
    with dual_write_app(settings, database, clock, emulator) as app:
        deadline = time.monotonic() + 60
        while app.all_pending():
            assert time.monotonic() < deadline, (
                f"{app.all_pending()} mirrors stay pending\n{context}"
            )
            clock.advance(timedelta(minutes=10))
            app.repair()


def stale_acknowledgements(ledger: Ledger, database: str, fs: firestore.Client) -> list[str]:
    """Each acknowledged write not readable at its version or newer in both stores."""
    by_record: dict[tuple[str, str], list[Ack]] = defaultdict(list)
    for ack in ledger.acks:
        by_record[(ack.uid, ack.record)].append(ack)
    findings: list[str] = []
    with psycopg.connect(database) as conn:
        for (uid, record), record_acks in sorted(by_record.items()):
            row = conn.execute(
                "SELECT version, name, deleted_at IS NOT NULL FROM blocklists"
                " WHERE user_id = %s AND id = %s",
                (uid, record),
            ).fetchone()
            path = ledger.path(uid, record)
            document = fs.document(path).get().to_dict()
            problems = record_problems(record_acks, row, document)
            if problems:
                findings.append(
                    f"{path} (record {record}): {'; '.join(problems)}\n  Postgres holds {row}\n"
                    f"  Firestore holds {summary(document)}\n  acknowledged: {record_acks}"
                )
    return findings


def record_problems(
    acks: list[Ack], row: tuple[Any, ...] | None, document: dict[str, Any] | None
) -> list[str]:
    if row is None:
        return ["not in Postgres"]
    pg_version, pg_name, pg_deleted = int(row[0]), row[1], bool(row[2])
    fs_version = firestore_version(document)
    fs_gone = document is None or "deletedAt" in document
    problems = []
    versioned = [ack for ack in acks if ack.version is not None]
    for ack in versioned:
        assert ack.version is not None
        if pg_version < ack.version:
            problems.append(f"Postgres is at version {pg_version} < acknowledged {ack.version}")
        if not (document is None and pg_deleted) and fs_version < ack.version:
            problems.append(f"Firestore _v {fs_version} < acknowledged {ack.version}")
    live = [ack.version for ack in versioned if not ack.deleted]
    if any(ack.deleted and ack.version is None for ack in acks):  # an API delete (204)
        if not pg_deleted or (live and pg_version <= max(v for v in live if v is not None)):
            problems.append("the API's acknowledged delete is not the latest state in Postgres")
        if not fs_gone:
            problems.append("the API's acknowledged delete is not in Firestore")
    if versioned:
        top = max(versioned, key=lambda ack: ack.version or 0)
        if pg_version == top.version and (pg_deleted, None if pg_deleted else pg_name) != (
            top.deleted,
            top.name,
        ):
            problems.append(f"Postgres at version {pg_version} differs from what was acknowledged")
        if fs_version == top.version and (
            fs_gone,
            None if fs_gone else (document or {}).get("name"),
        ) != (
            top.deleted,
            top.name,
        ):
            problems.append(f"Firestore at _v {fs_version} differs from what was acknowledged")
    return problems


def firestore_version(document: dict[str, Any] | None) -> int:
    version = (document or {}).get("_v")
    return version if isinstance(version, int) else 0


def summary(document: dict[str, Any] | None) -> dict[str, Any] | None:
    if document is None:
        return None
    keys = ("name", "_v", "_writer", "deletedAt", "updatedAt")
    return {key: document[key] for key in keys if key in document}
