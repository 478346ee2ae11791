"""`focus migrate verify` as the on-call engineer uses it: both stores compared per entity,
divergences counted and named by id and field, repaired from the phase's source of truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from app.cli import cli
from datastore.postgres.engine import create_engine
from datastore.postgres.unit_of_work import PostgresUnitOfWork
from domain.blocklists.model import Blocklist
from domain.common import utc_now
from domain.migration import Entity, Phase, PhaseChange, Verification
from migration.firestore.store import FirestoreStore
from migration.postgres import verify_reads
from migration.postgres.migration_phases import PostgresPhaseStore
from tests.support import entities
from tests.support.firestore_emulator import FirestoreEmulator

T = TypeVar("T")
SECRET_NAME = "Divorce lawyer sites"
"""A personal value: it must never appear in verify's output."""

pytestmark = pytest.mark.usefixtures("empty_firestore")


def focus(*args: str) -> Result:
    """`focus migrate …`; a verify takes its second look at divergent records after 0.1 s
    (what these tests plant does not settle) unless the test says otherwise."""
    if args[0] == "verify" and "--settle" not in args:
        args = (*args, "--settle", "0.1")
    return CliRunner().invoke(cli, ["migrate", *args])


def run(url: str, job: Callable[[Any, FirestoreStore], Awaitable[T]]) -> T:
    """`job(engine, firestore_store)` on this test's database and the emulator."""
    from google.cloud import firestore

    async def main() -> T:
        engine = create_engine(url, pool_size=2)
        client = firestore.AsyncClient(project="demo-focus")
        try:
            return await job(engine, FirestoreStore(client, clock=lambda: entities.AT))
        finally:
            client.close()  # type: ignore[no-untyped-call]
            await engine.dispose()

    return asyncio.run(main())


def uid() -> str:
    return uuid.uuid4().hex[:28]


def new_id() -> uuid.UUID:
    return uuid.uuid4()


async def in_postgres(engine: Any, user: str, *lists: Blocklist) -> None:
    async with PostgresUnitOfWork(engine) as uow:
        await uow.users.ensure(user)
        await uow.users.save(entities.user(user))
        await verify_reads.restore_row(uow.connection, Entity.USERS, user, "", entities.AT)
        for blocklist in lists:
            # Versions from the user's counter, as every write takes them.
            await uow.blocklists.save(replace(blocklist, version=await uow.next_version(user)))
        await uow.commit()


async def in_firestore(store: FirestoreStore, user: str, *lists: Blocklist) -> None:
    await store.users.ensure(user)
    await store.users.save(entities.user(user))
    for blocklist in lists:
        await store.blocklists.save(blocklist)


def in_both(url: str, user: str, *lists: Blocklist) -> None:
    async def job(engine: Any, store: FirestoreStore) -> None:
        await in_postgres(engine, user, *lists)
        await in_firestore(store, user, *lists)

    run(url, job)


def last_verification(url: str, entity: Entity) -> Verification | None:
    return run(url, lambda engine, _: PostgresPhaseStore(engine).last_verification(entity))


def set_phase(url: str, entity: Entity, phase: Phase) -> None:
    change = PhaseChange(entity, Phase.FIRESTORE_ONLY, phase, utc_now(), "test", forced=True)
    run(
        url, lambda engine, _: PostgresPhaseStore(engine).change(change, expected=change.from_phase)
    )


def rows(url: str, sql: str, **params: Any) -> list[Any]:
    async def job(engine: Any, _: FirestoreStore) -> list[Any]:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return list(result.all()) if result.returns_rows else []

    return run(url, job)


def plant_divergences(url: str) -> tuple[str, uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """One user, four blocklists: equal, missing in Postgres, extra in Postgres, renamed."""
    user = uid()
    equal, missing, extra, renamed = (new_id() for _ in range(4))
    in_both(url, user, *(entities.blocklist(user, i) for i in (equal, missing, renamed)))
    secret = replace(entities.blocklist(user, renamed), name=SECRET_NAME)

    async def job(engine: Any, _: FirestoreStore) -> None:
        async with PostgresUnitOfWork(engine) as uow:
            for blocklist in (entities.blocklist(user, extra), secret):
                version = await uow.next_version(user)
                await uow.blocklists.save(replace(blocklist, version=version))
            await uow.connection.execute(
                text("DELETE FROM blocklists WHERE id = :id"), {"id": missing}
            )
            await uow.commit()

    run(url, job)
    return user, equal, missing, extra, renamed


async def every_entity(repos: Any, user: str, blocklist_id: uuid.UUID) -> None:
    """One record of each other entity, written the same way to either store."""
    await repos.devices.save(entities.device(user))
    schedule_id, session_id = (
        uuid.uuid5(blocklist_id, "schedule"),
        uuid.uuid5(blocklist_id, "session"),
    )
    await repos.schedules.save(entities.schedule(user, schedule_id, blocklist_id))
    await repos.focus_sessions.add(entities.session(user, session_id, blocklist_id))
    await repos.usage.save(entities.usage_report(user, dt.date(2025, 11, 2)))


def test_equal_stores_pass_and_let_reads_move_to_postgres(database: str) -> None:
    user, blocklist_id = uid(), new_id()
    in_both(database, user, entities.blocklist(user, blocklist_id))

    async def job(engine: Any, store: FirestoreStore) -> None:
        async with PostgresUnitOfWork(engine) as uow:
            await every_entity(uow, user, blocklist_id)
            await uow.commit()
        await every_entity(store, user, blocklist_id)

    run(database, job)

    verified = focus("verify", "--full")

    assert verified.exit_code == 0, verified.output
    assert "verify (6 entities): passed" in verified.output
    as_json = json.loads(focus("verify", "--full", "--json").output)
    assert {e["entity"]: e["found"]["compared"] for e in as_json} == dict.fromkeys(
        (entity.value for entity in Entity), 1
    )
    recorded = last_verification(database, Entity.BLOCKLISTS)
    assert recorded is not None
    assert recorded.passed
    assert (recorded.missing, recorded.extra, recorded.different) == (0, 0, 0)
    assert focus("phase", "users", "dual_write_read_firestore").exit_code == 0
    moved = focus("phase", "users", "dual_write_read_postgres")
    assert moved.exit_code == 0, moved.output


def test_divergences_are_counted_by_kind_and_field_with_ids_only(database: str) -> None:
    user, _, missing, extra, renamed = plant_divergences(database)

    verified = focus("verify", "blocklists", "--full")

    assert verified.exit_code == 1, verified.output
    assert f"missing: {user}/{missing}" in verified.output
    assert f"extra: {user}/{extra}" in verified.output
    assert f"different: {user}/{renamed}" in verified.output
    assert "fields: <missing> 2, name 1" in verified.output
    assert SECRET_NAME not in verified.output
    assert "Social" not in verified.output
    recorded = last_verification(database, Entity.BLOCKLISTS)
    assert recorded is not None
    assert not recorded.passed
    assert (recorded.missing, recorded.extra, recorded.different) == (1, 1, 1)
    assert recorded.examples["different"] == (f"{user}/{renamed}",)


def test_writes_in_flight_when_compared_are_not_divergences(database: str) -> None:
    user, list_id = uid(), new_id()
    original = replace(entities.blocklist(user, list_id), name="Evenings")
    in_both(database, user, original)
    renamed = replace(original, name="Late evenings")
    # Postgres has the new name; Firestore gets it a moment later, as a mirror would.
    run(database, lambda engine, _: in_postgres(engine, user, renamed))
    mirror = threading.Timer(
        0.5, lambda: run(database, lambda _, store: store.blocklists.save(renamed))
    )
    mirror.start()
    try:
        verified = focus("verify", "blocklists", "--full", "--settle", "3", "--json")
    finally:
        mirror.join()

    assert verified.exit_code == 0, verified.output
    (report,) = json.loads(verified.output)
    found = report["found"]
    assert (found["missing"], found["extra"], found["different"]) == (0, 0, 0)
    assert found["in_flight"] == 1
    assert found["passed"]
    recorded = last_verification(database, Entity.BLOCKLISTS)
    assert recorded is not None
    assert recorded.passed


def test_repair_from_firestore_fixes_postgres_with_newer_versions(
    database: str, firestore_emulator: FirestoreEmulator
) -> None:
    set_phase(database, Entity.BLOCKLISTS, Phase.DUAL_WRITE_READ_FIRESTORE)
    user, equal, missing, extra, renamed = plant_divergences(database)
    before = dict(rows(database, "SELECT id, version FROM blocklists"))

    repaired = focus("verify", "blocklists", "--full", "--repair")

    assert repaired.exit_code == 0, repaired.output
    assert "repair from firestore: 3 records written" in repaired.output
    assert focus("verify", "blocklists", "--full").exit_code == 0
    after = {
        r.id: r for r in rows(database, "SELECT id, version, name, deleted_at FROM blocklists")
    }
    assert after[equal].version == before[equal]
    assert min(after[i].version for i in (missing, extra, renamed)) > max(before.values())
    assert after[renamed].name == "Social"
    assert after[extra].deleted_at is not None
    assert after[missing].deleted_at is None
    # Firestore serves reads in this phase: its documents carry the versions Postgres gave.
    documents = firestore_emulator.client().collection(f"users/{user}/blocklists")
    for repaired_id in (missing, renamed):
        assert documents.document(str(repaired_id)).get().get("_v") == after[repaired_id].version
    assert not documents.document(str(extra)).get().exists  # never written back as a tombstone
    recorded = last_verification(database, Entity.BLOCKLISTS)
    assert recorded is not None
    assert recorded.passed


def test_repair_from_postgres_fixes_firestore(
    database: str, firestore_emulator: FirestoreEmulator
) -> None:
    set_phase(database, Entity.BLOCKLISTS, Phase.DUAL_WRITE_READ_POSTGRES)
    user, _, missing, extra, renamed = plant_divergences(database)

    repaired = focus("verify", "blocklists", "--full", "--repair")

    assert repaired.exit_code == 0, repaired.output
    assert focus("verify", "blocklists", "--full").exit_code == 0
    documents = firestore_emulator.client().collection(f"users/{user}/blocklists")
    assert documents.document(str(missing)).get().get("deletedAt") is not None
    assert documents.document(str(extra)).get().get("_writer") == "backend"
    assert documents.document(str(renamed)).get().get("name") == SECRET_NAME


def test_repair_never_puts_an_older_version_over_a_newer_document(
    database: str, firestore_emulator: FirestoreEmulator
) -> None:
    """Postgres is the source, but the document's version is ahead of the row's (a write
    Postgres has not taken yet): the repair is a new write, above both."""
    set_phase(database, Entity.BLOCKLISTS, Phase.DUAL_WRITE_READ_POSTGRES)
    user, _, _, _, renamed = plant_divergences(database)
    (planted,) = rows(database, "SELECT version FROM blocklists WHERE id = :id", id=renamed)[0]
    document = firestore_emulator.client().document(f"users/{user}/blocklists/{renamed}")
    document.update({"_v": planted + 10})

    repaired = focus("verify", "blocklists", "--full", "--repair")

    assert repaired.exit_code == 0, repaired.output
    ((version, name),) = rows(
        database, "SELECT version, name FROM blocklists WHERE id = :id", id=renamed
    )
    assert version > planted + 10
    assert name == SECRET_NAME
    snapshot = document.get()
    assert (snapshot.get("name"), snapshot.get("_v")) == (SECRET_NAME, version)


def test_quarantined_documents_and_erased_users_are_no_divergence(
    database: str, firestore_emulator: FirestoreEmulator
) -> None:
    user, erased = uid(), uid()
    in_both(database, user, entities.blocklist(user, new_id()))
    sync = firestore_emulator.client()
    sync.document(f"users/{user}/blocklists/dOnprj2fHgqfR9WVfTmo").set({"apps": "a.com,b.com"})
    sync.document(f"users/{erased}").set({"displayName": "Gone"})
    sync.document(f"users/{erased}/blocklists/aaaaaaaaaaaaaaaaaaaa").set({"name": "x"})
    rows(database, "INSERT INTO erased_users (uid, erased_at) VALUES (:uid, now())", uid=erased)

    verified = focus("verify", "blocklists", "--full", "--repair")

    assert verified.exit_code == 0, verified.output
    assert "quarantined: wrong_type 1" in verified.output
    assert f"quarantined: {user}/" in verified.output
    assert erased not in verified.output
    assert rows(database, "SELECT 1 FROM users WHERE uid = :uid", uid=erased) == []
    assert rows(database, "SELECT 1 FROM blocklists WHERE user_id = :uid", uid=erased) == []


def test_a_sample_finds_a_divergence_planted_among_equal_records(database: str) -> None:
    users = [uid() for _ in range(30)]
    for user in users:
        in_both(database, user, entities.blocklist(user, new_id()))
    odd = users[17]
    rows(database, "UPDATE blocklists SET name = 'Other' WHERE user_id = :uid", uid=odd)

    sampled = focus("verify", "blocklists", "--sample", "100", "--seed", "7")

    assert sampled.exit_code == 1, sampled.output
    assert f"different: {odd}/" in sampled.output
    recorded = last_verification(database, Entity.BLOCKLISTS)
    assert recorded is not None
    assert recorded.different == 1
    assert recorded.sample_size == 30


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "--sample", "0"),
        ("verify", "--sample", "5", "--full"),
        ("verify", "no_such_entity"),
    ],
)
def test_usage_errors_exit_2(database: str, args: tuple[str, ...]) -> None:
    assert focus(*args).exit_code == 2


def test_verify_is_recorded_with_its_start_and_end(database: str) -> None:
    started = utc_now() - dt.timedelta(seconds=1)
    assert focus("verify", "users", "--full").exit_code == 0
    recorded = last_verification(database, Entity.USERS)
    assert recorded is not None
    assert recorded.started_at is not None
    assert started <= recorded.started_at <= recorded.finished_at
