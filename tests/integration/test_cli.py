"""The `focus` command as the on-call engineer uses it."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from app.cli import cli
from datastore.postgres.schema import head, upgrade
from domain.common import utc_now
from domain.events import DomainEvent, EventType
from events.codec import encode


def test_db_upgrade_brings_an_empty_database_to_the_newest_schema(
    scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    runner = CliRunner()

    before = runner.invoke(cli, ["db", "current"])
    upgraded = runner.invoke(cli, ["db", "upgrade"])
    after = runner.invoke(cli, ["db", "current"])

    assert before.exit_code == upgraded.exit_code == after.exit_code == 0
    assert "current: empty" in before.output
    assert f"current: {head()}" in after.output


def test_the_spec_check_fails_when_the_file_is_stale(tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["openapi", "export", "--out-dir", str(tmp_path)])
    (tmp_path / "v1.json").write_text("{}")

    stale = runner.invoke(cli, ["openapi", "export", "--out-dir", str(tmp_path), "--check"])

    assert stale.exit_code == 2
    assert "make spec" in stale.output


def _failed_message(url: str, data: bytes) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO failed_messages (id, subscription, data, attributes, error, attempts,"
            " failed_at) VALUES (%s, 'notifications', %s, '{}', 'PoisonMessage: x', 1, now())",
            (uuid.uuid4(), data),
        )


def test_events_replay_reruns_what_consumers_gave_up_on_and_says_what_still_fails(
    scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    upgrade(scratch_database)
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (uid, change_seq, created_at, updated_at)"
            " VALUES ('u-1', 1, now(), now())"
        )
    fixed = DomainEvent(EventType.SCHEDULE_UPDATED, "u-1", "s-1", 1, utc_now())
    _failed_message(scratch_database, encode(fixed))
    _failed_message(scratch_database, b"still not an event")
    runner = CliRunner()

    first = runner.invoke(cli, ["events", "replay"])
    second = runner.invoke(cli, ["events", "replay"])

    assert first.exit_code == 1
    assert "replayed 1, still failing 1" in first.output
    assert second.exit_code == 1
    assert "replayed 0, still failing 1" in second.output


def test_tasks_work_once_runs_what_is_due_and_says_how_many(
    scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    upgrade(scratch_database)
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO scheduled_tasks (id, kind, payload, run_at, status, attempts, created_at)"
            " VALUES (%s, 'push.deliver', %s, now(), 'pending', 0, now())",
            (uuid.uuid4(), '{"user_id": "u-gone", "installation_id": "gone-0001"}'),
        )

    result = CliRunner().invoke(cli, ["tasks", "work", "--once"])

    assert result.exit_code == 0, result.output
    assert "ran 1 task(s)" in result.output
