"""`focus migrate` as the on-call engineer uses it: phase changes under guardrails, status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from click.testing import Result
from typer.testing import CliRunner

from app.cli import cli
from datastore.postgres.engine import create_engine
from domain.common import utc_now
from domain.migration import Entity, Phase, Verification, VerificationMode
from migration.postgres.migration_phases import PostgresPhaseStore

T = TypeVar("T")


def focus(*args: str) -> Result:
    return CliRunner().invoke(cli, ["migrate", *args])


def phases(url: str) -> dict[Entity, Phase]:
    return dict(asyncio.run(_with_store(url, lambda store: store.current())))


def verify_passed(url: str, entity: Entity, *, hours_ago: float = 1) -> None:
    finished = utc_now() - timedelta(hours=hours_ago)
    verification = Verification(entity, finished, True, VerificationMode.FULL)
    asyncio.run(_with_store(url, lambda store: store.record_verification(verification)))


async def _with_store(url: str, job: Callable[[PostgresPhaseStore], Awaitable[T]]) -> T:
    engine = create_engine(url, pool_size=1)
    try:
        return await job(PostgresPhaseStore(engine))
    finally:
        await engine.dispose()


def test_moving_forward_one_phase_says_from_and_to(database: str) -> None:
    moved = focus("phase", "users", "dual_write_read_firestore", "--reason", "backfill done")

    assert moved.exit_code == 0, moved.output
    assert "users: firestore_only → dual_write_read_firestore" in moved.output
    assert phases(database)[Entity.USERS] is Phase.DUAL_WRITE_READ_FIRESTORE


def test_skipping_a_phase_is_refused_with_exit_2_and_the_reason(database: str) -> None:
    verify_passed(database, Entity.DEVICES)

    refused = focus("phase", "devices", "dual_write_read_postgres")

    assert refused.exit_code == 2
    assert "skips dual_write_read_firestore" in refused.output
    assert phases(database)[Entity.DEVICES] is Phase.FIRESTORE_ONLY


def test_moving_reads_to_postgres_needs_a_recent_passed_verify(database: str) -> None:
    assert focus("phase", "schedules", "dual_write_read_firestore").exit_code == 0

    unverified = focus("phase", "schedules", "dual_write_read_postgres")
    forced = focus("phase", "schedules", "dual_write_read_postgres", "--force")
    verify_passed(database, Entity.SCHEDULES, hours_ago=30)
    too_old = focus("phase", "schedules", "dual_write_read_postgres")
    verify_passed(database, Entity.SCHEDULES, hours_ago=1)
    verified = focus("phase", "schedules", "dual_write_read_postgres")

    assert (unverified.exit_code, forced.exit_code, too_old.exit_code) == (2, 2, 2)
    assert "never verified" in unverified.output
    assert "--force does not bypass this" in forced.output
    assert "30h old" in too_old.output
    assert verified.exit_code == 0, verified.output
    assert "schedules: dual_write_read_firestore → dual_write_read_postgres" in verified.output


def test_a_forced_skip_is_allowed_and_audited_as_forced(database: str) -> None:
    verify_passed(database, Entity.USERS)

    forced = focus("phase", "users", "dual_write_read_postgres", "--force", "--reason", "drill")

    assert forced.exit_code == 0, forced.output
    assert "users: firestore_only → dual_write_read_postgres (forced" in forced.output
    [audited] = asyncio.run(_with_store(database, lambda store: store.history(Entity.USERS)))
    assert (audited.forced, audited.by, audited.reason) == (True, "oncall", "drill")


def test_going_back_one_phase_works(database: str) -> None:
    focus("phase", "usage", "dual_write_read_firestore")

    back = focus("phase", "usage", "firestore_only", "--reason", "dual writes too slow")

    assert back.exit_code == 0, back.output
    assert "usage: dual_write_read_firestore → firestore_only" in back.output
    assert phases(database)[Entity.USAGE] is Phase.FIRESTORE_ONLY


def test_leaving_postgres_only_is_refused(database: str) -> None:
    verify_passed(database, Entity.BLOCKLISTS)
    for phase in ("dual_write_read_firestore", "dual_write_read_postgres", "postgres_only"):
        assert focus("phase", "blocklists", phase).exit_code == 0

    refused = focus("phase", "blocklists", "dual_write_read_postgres", "--force")

    assert refused.exit_code == 2
    assert "one-way" in refused.output
    assert phases(database)[Entity.BLOCKLISTS] is Phase.POSTGRES_ONLY


def test_an_unknown_phase_is_refused_by_the_command_line(database: str) -> None:
    refused = focus("phase", "users", "postgres_first")

    assert refused.exit_code == 2
    assert phases(database)[Entity.USERS] is Phase.FIRESTORE_ONLY


def test_status_shows_every_entity_with_its_phase_and_last_verify(database: str) -> None:
    verify_passed(database, Entity.FOCUS_SESSIONS, hours_ago=3)
    focus("phase", "focus_sessions", "dual_write_read_firestore", "--by", "ana")

    status = focus("status")

    assert status.exit_code == 0, status.output
    *table, owed = status.output.splitlines()[1:]
    lines = {line.split()[0]: line for line in table}
    assert set(lines) == {entity.value for entity in Entity}
    assert owed == "Firestore mirrors pending: 0"
    assert "dual_write_read_firestore" in lines["focus_sessions"]
    assert "passed (full)" in lines["focus_sessions"]
    assert "3h00m" in lines["focus_sessions"]
    assert "firestore_only" in lines["users"]
    assert "never" in lines["users"]
