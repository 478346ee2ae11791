"""`focus staff` as an admin's shell runs it, on Postgres: staff added with roles, listed,
removed; each change audited by staff id (never email); refusals are usage errors."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from identity.dev_issuer import load_or_create_secret
from identity.dev_staff import DevStaffTokens
from identity.iap import IAP_HEADER


@pytest.fixture
def focus(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FOCUS_ENV", "test")
    monkeypatch.setenv("FOCUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("FOCUS_LEGACY_FIRESTORE", raising=False)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["staff", *args])

    return run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def staff_audit(database_url: str) -> list[tuple[str, str, Any, dict[str, Any]]]:
    query = (
        "SELECT actor, action, request_id, detail FROM privacy_audit"
        " WHERE action LIKE 'staff\\_%%' ORDER BY seq"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        return [tuple(row) for row in conn.execute(query).fetchall()]


def test_an_admin_adds_lists_and_removes_staff_each_change_audited(
    focus: Any, database_url: str
) -> None:
    email = f"Olga-{uuid.uuid4().hex[:8]}@Example.com"
    before = len(staff_audit(database_url))

    added = json.loads(
        ok(focus("add", email, "--role", "operator", "--role", "approver", "--by", "admin-1",
                 "--json")).stdout
    )  # fmt: skip
    listed = json.loads(ok(focus("list", "--json")).stdout)["staff"]
    ok(focus("remove", email, "--by", "admin-2"))
    after = json.loads(ok(focus("list", "--json")).stdout)["staff"]
    with_removed = json.loads(ok(focus("list", "--removed", "--json")).stdout)["staff"]

    assert added["email"] == email.lower()
    assert added["roles"] == ["approver", "operator"]
    assert added["id"] in [m["id"] for m in listed]
    assert added["id"] not in [m["id"] for m in after]
    [removed] = [m for m in with_removed if m["id"] == added["id"]]
    assert removed["removed_at"] is not None
    audited = staff_audit(database_url)[before:]
    assert [(actor, action, request_id) for actor, action, request_id, _ in audited] == [
        ("admin-1", "staff_added", None),
        ("admin-2", "staff_removed", None),
    ]
    assert audited[0][3] == {"staff_id": added["id"], "roles": "approver,operator"}
    assert email.lower() not in str(audited)


def test_staff_changes_that_cannot_stand_are_usage_errors(focus: Any) -> None:
    email = f"pat-{uuid.uuid4().hex[:8]}@example.com"
    ok(focus("add", email, "--role", "viewer", "--by", "admin-1"))

    refused(focus("add", email, "--role", "admin", "--by", "admin-1"), "already a staff member")
    refused(focus("add", "nobody", "--role", "viewer", "--by", "admin-1"), "not an email")
    refused(focus("add", "x@example.com", "--role", "viewer", "--by", "subject"), "staff id")
    refused(focus("remove", "x@example.com", "--by", "admin-1"), "no current staff member")
    assert focus("add", "x@example.com", "--role", "boss", "--by", "admin-1").exit_code == 2


@pytest.mark.anyio
async def test_the_dev_staff_token_is_one_the_dev_staff_verifier_accepts(
    focus: Any, tmp_path: Path
) -> None:
    token = ok(focus("token", "dana@example.com")).stdout.strip()
    tokens = DevStaffTokens(load_or_create_secret(tmp_path / "data" / "dev-token-secret"))

    principal = await tokens.verify({IAP_HEADER: token})

    assert principal.email == "dana@example.com"


def test_production_issues_no_dev_staff_token(focus: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOCUS_ENV", "production")

    refused(focus("token", "dana@example.com"), "refused when FOCUS_ENV=production")
