"""`focus migrate backfill` as the operator runs it, on the Firestore emulator and Postgres:
a drifted legacy dataset lands once, the rest is quarantined for the documented reason, a
killed run resumes without gaps or duplicates, and nothing newer in Postgres is overwritten."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import Result
from google.cloud import firestore
from typer.testing import CliRunner

from app.cli import cli
from datastore.postgres.engine import create_engine
from datastore.postgres.tables import metadata
from datastore.postgres.tables.columns import SET_BY_TRIGGERS
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from migration.firestore.layout import QuarantineReason, parse_usage_doc_id, record_id
from migration.firestore.store import FirestoreStore
from migration.legacy.layout import BLOCKLISTS, SCHEDULES, SESSIONS, USAGE, USERS, DriftKind
from migration.legacy.seed import seed
from tests.integration.migration.legacy_data import drift_by_path
from tests.support.firestore_emulator import FirestoreEmulator

SEED, USERS_SEEDED, SHARE = 5, 30, 0.2
FOCUS = Path(sys.executable).parent / "focus"
TABLES = {
    "users": "uid",
    "devices": "user_id, installation_id",
    "blocklists": "user_id, id",
    "schedules": "user_id, id",
    "focus_sessions": "id",
    "usage_reports": "user_id, installation_id, date",
}
PRESCRIBED = {
    DriftKind.WRONG_TYPE: QuarantineReason.WRONG_TYPE,
    DriftKind.BLOCKLIST_MISSING: QuarantineReason.MISSING_BLOCKLIST,
    DriftKind.DANGLING_BLOCKLIST: QuarantineReason.DANGLING_BLOCKLIST,
    DriftKind.ORPHAN_OF_DELETED_USER: QuarantineReason.ORPHAN_OF_DELETED_USER,
}
"""The drift kinds that keep a document out of Postgres, and the reason the layout gives."""


@pytest.fixture
def legacy(
    firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> firestore.Client:
    """An emptied emulator with a seeded, drifted dataset."""
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", firestore_emulator.project_id)
    firestore_emulator.reset()
    client = firestore_emulator.client()
    seed(client, USERS_SEEDED, seed=SEED, drift=SHARE)
    return client


def backfill(*args: str) -> Result:
    return CliRunner().invoke(cli, ["migrate", "backfill", *args])


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the user tables (what the backfill wrote: not the columns the database's
    triggers set, which name the transaction), and the quarantine, in key order."""
    with psycopg.connect(url) as conn:
        found = {}
        for table, key in TABLES.items():
            columns = [c.name for c in metadata.tables[table].columns
                       if c.name not in SET_BY_TRIGGERS]  # fmt: skip
            query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}"  # noqa: S608
            found[table] = conn.execute(query).fetchall()
        found["backfill_quarantine"] = conn.execute(
            "SELECT path, entity, uid, reason, field, document FROM backfill_quarantine"
            " ORDER BY path"
        ).fetchall()
    return found


def quarantine(url: str) -> dict[str, tuple[str, str, Any]]:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT path, uid, reason, document FROM backfill_quarantine")
        return {path: (uid, reason, document) for path, uid, reason, document in found}


def key_of(path: str) -> tuple[str, Any]:
    """The table and key a document's record has in Postgres."""
    parts = path.split("/")
    if len(parts) == 2:
        return "users", (parts[1],)
    uid, collection, doc_id = parts[1], parts[2], parts[3]
    if collection == "devices":
        return "devices", (uid, doc_id)
    if collection == USAGE:
        day, installation = parse_usage_doc_id(doc_id)
        return "usage_reports", (uid, installation, day)
    if collection == SESSIONS:
        return "focus_sessions", (record_id(uid, SESSIONS, doc_id),)
    return collection, (uid, record_id(uid, collection, doc_id))


def keys(url: str) -> dict[str, set[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            table: set(conn.execute(f"SELECT {key} FROM {table}").fetchall())  # noqa: S608
            for table, key in TABLES.items()
        }


def test_a_drifted_dataset_lands_once_and_the_rest_is_quarantined_as_documented(
    database: str, legacy: firestore.Client
) -> None:
    ran = backfill()

    assert ran.exit_code == 0, ran.output
    kinds = drift_by_path(SEED, USERS_SEEDED, SHARE)
    in_postgres, quarantined = keys(database), quarantine(database)
    for path, drifted in kinds.items():
        table, key = key_of(path)
        written = key in in_postgres[table]
        assert written != (path in quarantined), f"{path}: in Postgres xor in quarantine"
        prescribed = {PRESCRIBED[k] for k in drifted if k in PRESCRIBED}
        if path in quarantined:
            reason = QuarantineReason(quarantined[path][1])
            # A schedule whose blocklist was itself quarantined is dangling (the layout's rule).
            assert reason in prescribed or path.split("/")[2] == SCHEDULES, (path, reason)
        else:
            assert not prescribed - {QuarantineReason.DANGLING_BLOCKLIST}, (path, drifted)
    orphans = {p for p, k in kinds.items() if DriftKind.ORPHAN_OF_DELETED_USER in k}
    assert orphans
    assert all(quarantined[p][1:] == ("orphan_of_deleted_user", None) for p in orphans)
    assert sum(len(v) for v in in_postgres.values()) + len(quarantined) == len(kinds)
    assert "quarantined: " in ran.output
    assert "wrong_type" in ran.output


def test_backfilled_records_equal_what_the_firestore_repositories_read(
    database: str, legacy: firestore.Client, firestore_emulator: FirestoreEmulator
) -> None:
    assert backfill().exit_code == 0
    uids = sorted(doc.id for doc in legacy.collection(USERS).stream())[:6]

    async def compare() -> None:
        engine = create_engine(database, pool_size=1)
        fs = FirestoreStore(firestore_emulator.async_client())
        try:
            async with PostgresUnitOfWork(engine) as pg:
                for uid in uids:
                    await same_records(uid, pg, fs, database)
        finally:
            await engine.dispose()

    asyncio.run(compare())


async def same_records(uid: str, pg: PostgresUnitOfWork, fs: FirestoreStore, url: str) -> None:
    def unversioned(record: Any) -> Any:
        return record and dataclasses.replace(record, version=0)

    assert unversioned(await pg.users.get(uid)) == unversioned(await fs.users.get(uid))
    for device in await pg.devices.list(uid):
        assert unversioned(device) == unversioned(await fs.devices.get(uid, device.installation_id))
    blocklists = await pg.blocklists.list(uid, after=None, limit=100)
    for blocklist in blocklists:
        assert unversioned(blocklist) == unversioned(await fs.blocklists.get(uid, blocklist.id))
    for schedule in await pg.schedules.list(uid, after=None, limit=100):
        assert unversioned(schedule) == unversioned(await fs.schedules.get(uid, schedule.id))
    mine = {b.id for b in blocklists}
    with psycopg.connect(url) as conn:
        session_ids = conn.execute("SELECT id FROM focus_sessions WHERE user_id = %s", (uid,))
        ids = [row[0] for row in session_ids]
    for session_id in ids:
        ours = await pg.focus_sessions.get(uid, session_id)
        theirs = await fs.focus_sessions.get(uid, session_id)
        assert theirs is not None
        # The repositories leave a link to a quarantined or missing blocklist unchecked.
        if theirs.blocklist_id not in mine:
            theirs = dataclasses.replace(theirs, blocklist_id=None)
        assert unversioned(ours) == unversioned(theirs)


def test_a_run_killed_mid_way_resumes_to_the_rows_of_an_uninterrupted_run(
    database: str, legacy: firestore.Client, firestore_emulator: FirestoreEmulator
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator.host,
        "GOOGLE_CLOUD_PROJECT": firestore_emulator.project_id,
    }
    process = subprocess.Popen(
        [str(FOCUS), "migrate", "backfill", "--batch", "5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_progress(database, "devices", 20)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with psycopg.connect(database) as conn:
        unfinished = conn.execute(
            "SELECT entity FROM backfill_checkpoints WHERE finished_at IS NULL"
        ).fetchall()
    assert unfinished, "killed before it finished"

    resumed = backfill("--batch", "5")
    assert resumed.exit_code == 0, resumed.output
    assert "resumed a run" in resumed.output
    after_kill = rows(database)
    empty(database)
    assert backfill("--batch", "5").exit_code == 0

    assert rows(database) == after_kill  # versions included: the killed batch rolled back


def wait_for_progress(url: str, entity: str, documents: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            found = conn.execute(
                "SELECT read FROM backfill_checkpoints WHERE entity = %s", (entity,)
            ).fetchone()
            if found and found[0] >= documents:
                return
            time.sleep(0.02)
    pytest.fail(f"no progress on {entity} within {timeout}s")


def empty(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE users, backfill_checkpoints, backfill_quarantine CASCADE")


def test_a_second_full_run_changes_nothing(database: str, legacy: firestore.Client) -> None:
    assert backfill().exit_code == 0
    first = rows(database)

    again = backfill()

    assert again.exit_code == 0, again.output
    assert rows(database) == first  # every row, its version and the users' counters
    assert "nothing written: every record was already in Postgres" in again.output


def test_a_newer_postgres_row_is_kept_and_a_newer_backend_document_replaces_its_row(
    database: str, legacy: firestore.Client
) -> None:
    assert backfill().exit_code == 0
    with psycopg.connect(database) as conn:
        (uid, edited, overtaken), *_ = conn.execute(
            "SELECT user_id, min(id::text)::uuid, max(id::text)::uuid FROM blocklists"
            " GROUP BY user_id HAVING count(*) > 1 ORDER BY user_id"
        ).fetchall()
    renamed = asyncio.run(rename_in_postgres(database, uid, edited, "Renamed in the app"))
    document = next(
        d
        for d in legacy.collection(USERS).document(uid).collection(BLOCKLISTS).stream()
        if record_id(uid, BLOCKLISTS, d.id) == overtaken
    )
    document.reference.update({"name": "Written by the backend", "_v": 10_000})

    assert backfill("blocklists").exit_code == 0

    async def read() -> tuple[Any, Any]:
        engine = create_engine(database, pool_size=1)
        try:
            async with PostgresUnitOfWork(engine) as uow:
                return await uow.blocklists.get(uid, edited), await uow.blocklists.get(
                    uid, overtaken
                )
        finally:
            await engine.dispose()

    kept, replaced = asyncio.run(read())
    assert (kept.name, kept.version) == ("Renamed in the app", renamed)
    assert (replaced.name, replaced.version) == ("Written by the backend", 10_000)


async def rename_in_postgres(url: str, uid: str, blocklist_id: Any, name: str) -> int:
    """An API write after the backfill: a new version from the user's counter."""
    engine = create_engine(url, pool_size=1)
    try:
        async with PostgresUnitOfWork(engine) as uow:
            blocklist = await uow.blocklists.get(uid, blocklist_id)
            assert blocklist is not None
            version = await uow.next_version(uid)
            await uow.blocklists.save(dataclasses.replace(blocklist, name=name, version=version))
            await uow.commit()
            return version
    finally:
        await engine.dispose()


def test_an_erased_user_is_never_written(database: str, legacy: firestore.Client) -> None:
    erased = sorted(doc.id for doc in legacy.collection(USERS).stream())[0]
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO erased_users (uid, erased_at) VALUES (%s, now())", (erased,))

    ran = backfill()

    assert ran.exit_code == 0, ran.output
    with psycopg.connect(database) as conn:
        left = {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE {key.split(',')[0]} = %s",  # noqa: S608
                (erased,),
            ).fetchone()
            for table, key in TABLES.items()
            if table != "focus_sessions"
        }
        left["focus_sessions"] = conn.execute(
            "SELECT count(*) FROM focus_sessions WHERE user_id = %s", (erased,)
        ).fetchone()
        left["backfill_quarantine"] = conn.execute(
            "SELECT count(*) FROM backfill_quarantine WHERE uid = %s", (erased,)
        ).fetchone()
        skipped = conn.execute("SELECT sum(erased) FROM backfill_checkpoints").fetchone()
    assert set(left.values()) == {(0,)}
    assert skipped == (documents_of(legacy, erased),)
    assert "users: read 30, inserted 29, replaced 0, kept 0, quarantined 0, erased 1" in ran.output


def documents_of(client: firestore.Client, uid: str) -> int:
    profile = client.collection(USERS).document(uid)
    return 1 + sum(len(list(c.stream())) for c in profile.collections())


def test_a_dry_run_counts_and_writes_nothing(database: str, legacy: firestore.Client) -> None:
    ran = backfill("--dry-run")

    assert ran.exit_code == 0, ran.output
    assert "dry run: nothing was written" in ran.output
    assert "users: read 30, would insert 30" in ran.output
    found = rows(database)
    assert all(not table_rows for table_rows in found.values())
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM backfill_checkpoints").fetchone() == (0,)


@pytest.mark.parametrize("batch", ["0", "-5", "10001"])
def test_a_batch_size_out_of_range_is_refused(database: str, batch: str) -> None:
    ran = backfill("--batch", batch)

    assert ran.exit_code == 2
    assert f"--batch must be between 1 and 10,000 documents (got {batch})" in ran.output


def test_schedules_alone_wait_for_the_blocklists(database: str, legacy: firestore.Client) -> None:
    ran = backfill("schedules")

    assert ran.exit_code == 2
    assert "schedules needs the blocklists backfilled first" in ran.output
    assert not any(rows(database).values())
