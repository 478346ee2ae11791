"""The `focus` command as the on-call engineer uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from datastore.postgres.migrate import head


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
