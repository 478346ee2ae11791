"""`focus privacy` as compliance staff use it, end to end on Postgres: a request received by
email opened, joined, verified, approved by a second staff member, run to its end and checked;
deadlines extended within the law; refusals that need a reason; the audit chain checked.

What staff see never names the subject by uid: only the request id and the hash's prefix."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from app.cli import cli
from datastore.postgres.schema import upgrade
from domain.privacy.steps import ERASED_LIST, SCAN
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import rows_of, seed

Focus = Callable[..., Result]


@pytest.fixture
def focus_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Focus]:
    """`focus privacy …` as a staff member's shell runs it, on the database at a URL (the
    settings of a test deployment: its data dir keeps the subject key between commands)."""
    monkeypatch.setenv("FOCUS_ENV", "test")
    monkeypatch.setenv("FOCUS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FOCUS_LEGACY_FIRESTORE", raising=False)

    def on(url: str) -> Focus:
        def focus(*args: str) -> Result:
            monkeypatch.setenv("DATABASE_URL", url)
            return CliRunner().invoke(cli, ["privacy", *args])

        return focus

    return on


@pytest.fixture
def focus(focus_on: Callable[[str], Focus], database_url: str) -> Focus:
    return focus_on(database_url)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def refused(result: Result, message: str) -> None:
    """A usage error: exit 2, said on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def open_request(focus: Focus, kind: str, uid: str, *extra: str) -> dict[str, Any]:
    args = ["request", "--kind", kind, "--uid", uid, "--channel", "email", *extra]
    opened: dict[str, Any] = as_json(focus(*args, "--by", "dana", "--json"))
    return opened


def test_staff_erase_a_subjects_data_with_a_second_staff_members_approval(
    client: TestClient, alice: ApiUser, database_url: str, focus: Focus
) -> None:
    seed(client, alice)  # a profile, a device, a blocklist, a focus session

    opened = open_request(focus, "erasure", alice.uid)
    again = focus(
        "request", "--kind", "erasure", "--uid", alice.uid, "--channel", "post", "--by", "eli"
    )
    request_id = opened["id"]

    assert (opened["state"], opened["joined"], opened["paused"]) == ("received", False, True)
    assert opened["created_by"] == "dana"
    assert len(opened["subject"]) == 12
    assert f"joined the open request {request_id}" in ok(again).stdout
    assert opened["subject"] in again.stdout

    verified = as_json(
        focus("verify", request_id, "--method", "id_document", "--by", "dana", "--json")
    )
    assert verified["state"] == "verified"
    assert verified["verification"]["method"] == "id_document"
    assert 27 <= verified["days_left"] <= 30  # a calendar month from today, less time passed
    assert not verified["paused"]

    refused(
        focus("approve", request_id, "--by", "dana"),
        "approved by a staff member other than its author",
    )
    approved = ok(focus("approve", request_id, "--by", "eli"))
    assert f"approved {request_id}: approved" in approved.stdout
    assert "approved by  eli" in approved.stdout

    after_run = as_json(focus("run", request_id, "--json"))
    status = as_json(focus("status", request_id, "--json"))

    assert after_run == status
    assert status["request"]["state"] == "completed"
    assert status["request"]["days_left"] is None
    steps = status["steps"]
    assert [s["state"] for s in steps] == ["done"] * len(steps)
    assert (steps[0]["name"], steps[-1]["name"]) == (ERASED_LIST, SCAN)
    scan = steps[-1]
    assert scan["count"] == 0
    assert {"users", "devices", "blocklists", "focus_sessions"} <= set(scan["detail"])
    assert set(scan["detail"].values()) == {0}
    assert set(rows_of(database_url, alice.uid).values()) == {0}

    report = ok(focus("scan", request_id))
    assert "clean: nothing of the subject found" in report.stdout
    assert "focus_sessions" in report.stdout
    shown = ok(focus("status", request_id))
    assert "completed" in shown.stdout
    assert "verification_scan" in shown.stdout

    still_open = as_json(focus("list", "--open", "--json"))
    everything = as_json(focus("list", "--kind", "erasure", "--json"))
    assert request_id not in [r["id"] for r in still_open["requests"]]
    assert request_id in [r["id"] for r in everything["requests"]]
    assert everything["counts"]["by_state"]["completed"] >= 1

    checked = ok(focus("audit-check"))
    assert checked.stdout.strip() == "audit trail intact"
    said = [opened, again.stdout, approved.stdout, after_run, report.stdout, shown.stdout]
    assert alice.uid not in json.dumps(said)


def test_a_request_received_by_post_keeps_its_day_and_runs_when_it_is_ready(
    focus: Focus, make_user: Callable[[], ApiUser]
) -> None:
    received = (datetime.now(UTC) - timedelta(days=25)).date()
    opened = open_request(
        focus,
        "export",
        make_user().uid,
        "--received",
        received.isoformat(),
        "--verified-by",
        "email_reply",
    )

    listed = ok(focus("list", "--open", "--kind", "export"))
    ran = focus("run", opened["id"])

    assert opened["state"] == "verified"  # an export needs no second staff member
    assert opened["received_at"].startswith(received.isoformat())
    assert opened["at_risk"]  # on the clock since it was received: nothing paused it
    assert 2 <= opened["days_left"] <= 6
    row = next(line for line in listed.stdout.splitlines() if opened["id"] in line)
    assert "AT RISK" in row
    assert "at risk" in listed.stdout.splitlines()[-1]
    assert "archive" in ok(ran).stdout  # a verified export is ready: it runs
    done = as_json(focus("status", opened["id"], "--json"))
    assert done["request"]["state"] == "completed"
    refused(focus("scan", opened["id"]), "only an erasure has a verification scan")


def test_a_deadline_is_extended_by_two_months_at_most_in_all_and_each_time_with_a_reason(
    focus: Focus, make_user: Callable[[], ApiUser]
) -> None:
    opened = open_request(focus, "export", make_user().uid)

    extend = ["extend", opened["id"], "--months", "1", "--reason", "numerous requests"]
    once = as_json(focus(*extend, "--by", "dana", "--json"))
    too_long = focus("extend", opened["id"], "--months", "2", "--reason", "complex", "--by", "dana")
    no_reason = focus("extend", opened["id"], "--months", "1", "--by", "dana")

    assert once["extensions"][0] == {**once["extensions"][0], "months": 1, "by": "dana"}
    assert datetime.fromisoformat(once["due_at"]) > datetime.fromisoformat(opened["due_at"])
    refused(too_long, "at most 2 months in all (1 taken)")
    refused(no_reason, "Missing option '--reason'")


def test_refusing_or_cancelling_needs_a_reason_and_ends_the_request(
    focus: Focus, make_user: Callable[[], ApiUser]
) -> None:
    first = open_request(focus, "erasure", make_user().uid)
    second = open_request(focus, "export", make_user().uid)

    refused(focus("refuse", first["id"], "--by", "dana"), "Missing option '--reason'")
    refused(focus("refuse", first["id"], "--reason", "  ", "--by", "dana"), "reason: say why")
    said_no = as_json(
        focus("refuse", first["id"], "--reason", "manifestly unfounded", "--by", "dana", "--json")
    )
    cancelled = ok(focus("cancel", second["id"], "--reason", "withdrawn", "--by", "eli"))

    assert (said_no["state"], said_no["outcome"]) == ("refused", "manifestly unfounded")
    assert f"cancelled {second['id']}: cancelled" in cancelled.stdout
    refused(focus("run", first["id"]), "cannot start a refused request")
    refused(focus("approve", first["id"], "--by", "eli"), "cannot approve a refused request")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "00000000-0000-0000-0000-000000000000", "--by", "eli"], "no such request"),
        (["approve", "not-an-id", "--by", "eli"], "Invalid value for 'ID'"),
        (["approve", "00000000-0000-0000-0000-000000000000", "--by", "a b"], "--by"),
        (["approve", "00000000-0000-0000-0000-000000000000", "--by", "system"], "reserved"),
        (["status", "00000000-0000-0000-0000-000000000000"], "no such request"),
    ],
)
def test_a_mistyped_command_is_a_usage_error_never_a_traceback(
    focus: Focus, args: list[str], message: str
) -> None:
    refused(focus(*args), message)


def test_a_run_that_fails_at_a_step_says_which_and_a_later_run_finishes_it(
    focus_on: Callable[[str], Focus], scratch_database: str
) -> None:
    upgrade(scratch_database)
    focus = focus_on(scratch_database)
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (uid, change_seq, created_at, updated_at)"
            " VALUES ('u-stuck', 1, now(), now())"
        )
        conn.execute("ALTER TABLE usage_reports RENAME TO usage_reports_away")  # the store fails
    opened = open_request(focus, "erasure", "u-stuck", "--verified-by", "email_reply")
    ok(focus("approve", opened["id"], "--by", "eli"))

    stuck = focus("run", opened["id"])
    no_scan_yet = focus("scan", opened["id"])
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("ALTER TABLE usage_reports_away RENAME TO usage_reports")
    resumed = as_json(focus("run", opened["id"], "--json"))

    assert stuck.exit_code == 1
    assert "step usage_reports failed: ProgrammingError" in stuck.stderr
    assert "ProgrammingError" in next(
        line for line in stuck.stdout.splitlines() if "usage_reports" in line
    )
    assert "Traceback" not in stuck.output
    assert no_scan_yet.exit_code == 1
    assert "the scan has not completed (request running)" in no_scan_yet.stderr
    assert resumed["request"]["state"] == "completed"
    step = next(s for s in resumed["steps"] if s["name"] == "usage_reports")
    assert (step["state"], step["attempts"], step["error"]) == ("done", 1, None)
    assert "u-stuck" not in stuck.output + json.dumps(resumed)


def test_the_audit_check_names_the_first_entry_that_breaks_the_chain(
    focus_on: Callable[[str], Focus], scratch_database: str, make_user: Callable[[], ApiUser]
) -> None:
    upgrade(scratch_database)
    focus = focus_on(scratch_database)
    open_request(focus, "export", make_user().uid)
    intact = as_json(focus("audit-check", "--json"))
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO privacy_audit (at, actor, action, categories, detail, prev_hash, hash)"
            " VALUES (now(), 'mallory', 'received', '{}', '{}', 'forged', 'forged')"
        )

    broken = focus("audit-check")

    assert intact == {"intact": True, "first_broken": None}
    assert broken.exit_code == 1
    assert "audit trail broken at entry 1" in broken.stdout
