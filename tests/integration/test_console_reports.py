"""The console's export hand-over, audit search and CSV, dashboard, sign-out and 404s, on
Postgres through the TestClient: each answer checked as the staff member sees it, each
action found in the audit trail, and no subject's uid anywhere in what they see."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import secrets
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import firebase_admin
import httpx
import pytest
from firebase_admin import auth
from starlette.testclient import TestClient

from api.console.reports import _cell
from app.bootstrap import Container
from app.settings import AuthMode, Settings
from domain.staff import Role
from identity.firebase_accounts import FirebaseAccounts
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call, seed
from tests.integration.test_console import (
    CSP,
    MakeStaffer,
    Staffer,
    make_staffer,  # noqa: F401 (a fixture)
    signed_in,
)
from tests.integration.test_staff_api import audit_rows
from tests.support.clock import TestClock
from tests.support.configured_apps import configured_apps
from tests.support.firebase_emulator import PROJECT_ID, AuthEmulator

MakeUser = Callable[[], ApiUser]


def opened(client: TestClient, operator: Staffer, uid: str, kind: str, **fields: str) -> str:
    """A request opened on the console's form, with identity verified on receipt: its id."""
    form = {"subject": uid, "kind": kind, "channel": "email", "verification_method": "id_check"}
    answer = operator.post(client, "/requests", form | fields)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"]).rsplit("/", 1)[1]


def completed(client: TestClient, container: Container, operator: Staffer, request_id: str) -> None:
    ran = operator.post(client, f"/requests/{request_id}/run", {})
    assert ran.status_code == 303, ran.text
    call(client, container.task_worker.drain)


def test_an_export_is_handed_over_by_a_short_lived_link_whose_issue_is_audited(
    client: TestClient,
    container: Container,
    alice: ApiUser,
    make_staffer: MakeStaffer,  # noqa: F811
    database_url: str,
) -> None:
    seed(client, alice)
    operator, viewer = make_staffer(Role.OPERATOR), make_staffer(Role.VIEWER)
    request_id = opened(client, operator, alice.uid, "export")
    early = operator.post(client, f"/requests/{request_id}/download", {})
    completed(client, container, operator, request_id)

    as_operator = operator.get(client, f"/requests/{request_id}")
    as_viewer = viewer.get(client, f"/requests/{request_id}")
    by_viewer = viewer.post(client, f"/requests/{request_id}/download", {})
    handed = operator.post(client, f"/requests/{request_id}/download", {})
    link = re.search(r'<a class="button" href="([^"]+)" download>', handed.text)
    assert link, handed.text
    archive = client.get(link.group(1).replace("&amp;", "&"))

    assert early.status_code == 409
    assert "no archive to download" in early.text
    assert "Download the export" in as_operator.text
    assert "Download the export" not in as_viewer.text
    assert by_viewer.status_code == 403
    assert handed.status_code == 200
    assert handed.headers["content-security-policy"] == CSP
    expires = int(parse_qs(urlparse(link.group(1).replace("&amp;", "&")).query)["expires"][0])
    lifetime = expires - datetime.now(UTC).timestamp()
    assert 14 * 60 < lifetime <= 15 * 60
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened_zip:
        manifest = json.loads(opened_zip.read("manifest.json"))
        assert manifest["request"] == request_id
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(opened_zip.read(name)).hexdigest() == digest
        assert any(name.startswith("blocklists") for name in manifest["files"])
    issued = [r for r in audit_rows(database_url, "export_link_issued")
              if str(r["request_id"]) == request_id]  # fmt: skip
    assert [r["actor"] for r in issued] == [operator.id]
    for response in operator.seen + viewer.seen:
        assert alice.uid not in response.text


def test_the_audit_is_searched_by_request_staff_member_action_and_dates_and_paged(
    client: TestClient,
    container: Container,
    make_user: MakeUser,
    make_staffer: MakeStaffer,  # noqa: F811
) -> None:
    operator, viewer = make_staffer(Role.OPERATOR), make_staffer(Role.VIEWER)
    first = opened(client, operator, make_user().uid, "export")
    second = opened(client, operator, make_user().uid, "erasure")
    for _ in range(101):  # 101 listings of the queue: two pages of the viewer's entries
        assert viewer.get(client, "/").status_code == 200
    today = datetime.now(UTC).date()

    of_request = viewer.get(client, f"/audit?request={first}")
    of_operator = viewer.get(client, f"/audit?actor={operator.id}")
    of_action = viewer.get(client, f"/audit?actor={viewer.id}&action=listed")
    older = re.search(r'href="(/console/audit\?[^"]*before=\d+)"', of_action.text)
    assert older, of_action.text
    second_page = viewer.get(client, older.group(1).replace("&amp;", "&")[len("/console") :])
    tomorrow = viewer.get(client, f"/audit?actor={operator.id}&from={today + timedelta(days=1)}")
    until_today = viewer.get(client, f"/audit?actor={operator.id}&to={today}")
    not_an_id = viewer.get(client, "/audit?request=1234")
    not_a_date = viewer.get(client, "/audit?from=2026-02-30")

    def rows(page: str) -> list[tuple[str, str]]:
        body = page.split("<tbody>", 1)[1] if "<tbody>" in page else ""
        return re.findall(r"</th>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", body)

    assert f"Audit of export request {first[-8:]}" in of_request.text
    assert {action for _, action in rows(of_request.text)} >= {"received", "verified"}
    assert second[-8:] not in of_request.text.split("<tbody>", 1)[1]
    assert {actor for actor, _ in rows(of_operator.text)} == {operator.id}
    assert {"received", "verified"} <= {action for _, action in rows(of_operator.text)}
    assert len(rows(of_action.text)) == 100
    assert set(rows(of_action.text)) == {(viewer.id, "listed")}
    assert 1 <= len(rows(second_page.text)) <= 100
    assert set(rows(second_page.text)) == {(viewer.id, "listed")}
    assert "No entries match this search." in tomorrow.text
    assert len(rows(until_today.text)) >= 4
    assert (not_an_id.status_code, not_a_date.status_code) == (400, 400)
    assert "This is not a request id." in not_an_id.text
    assert "This is not a From date." in not_a_date.text
    assert 'value="1234"' in not_an_id.text  # the search is shown back, to correct


def test_the_audit_exports_as_csv_that_no_spreadsheet_runs_as_formulas(
    client: TestClient,
    make_user: MakeUser,
    make_staffer: MakeStaffer,  # noqa: F811
    database_url: str,
) -> None:
    operator, viewer = make_staffer(Role.OPERATOR), make_staffer(Role.VIEWER)
    request_id = opened(client, operator, make_user().uid, "erasure")

    exported = viewer.get(client, f"/audit.csv?request={request_id}")
    refused = viewer.get(client, "/audit.csv?to=tomorrow")

    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.headers["content-disposition"].startswith('attachment; filename="audit-')
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["actor"], r["action"]) for r in reversed(table)][:2] == [
        (operator.id, "received"),
        (operator.id, "verified"),
    ]
    assert {r["request_id"] for r in table} == {request_id}
    assert [int(r["seq"]) for r in table] == sorted((int(r["seq"]) for r in table), reverse=True)
    assert refused.status_code == 400
    exports = [r for r in audit_rows(database_url, "audit_exported")
               if r["actor"] == viewer.id]  # fmt: skip
    assert [(str(r["request_id"]), r["detail"]["count"]) for r in exports] == [
        (request_id, len(table))
    ]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b", "1"])
def test_a_csv_cell_never_starts_a_formula(value: str) -> None:
    assert not _cell(value).startswith(("=", "+", "-", "@", "\t", "\r"))
    assert _cell(value).lstrip("'") == value


def test_the_dashboard_counts_requests_per_month_and_days_to_complete(
    client: TestClient,
    container: Container,
    clock: TestClock,
    make_user: MakeUser,
    make_staffer: MakeStaffer,  # noqa: F811
) -> None:
    # Far ahead of every other test's requests: the last twelve months hold only these.
    clock.set(datetime(2040, 6, 15, 12, tzinfo=UTC))
    operator, viewer = make_staffer(Role.OPERATOR), make_staffer(Role.VIEWER)
    received = [date(2040, 6, 5), date(2040, 5, 26), date(2040, 5, 6), date(2039, 7, 1)]
    for day in received:
        request_id = opened(client, operator, make_user().uid, "export", received_on=str(day))
        completed(client, container, operator, request_id)
    before = figures(viewer.get(client, "/dashboard").text)  # no task runs from here on
    for kind, day in (
        ("erasure", "2040-05-01"),
        ("erasure", "2040-06-14"),
        ("export", "2039-06-30"),
    ):
        opened(client, operator, make_user().uid, kind, received_on=day)  # left open

    shown = viewer.get(client, "/dashboard")
    after = figures(shown.text)

    assert shown.status_code == 200
    assert 'aria-current="page">Dashboard' in shown.text
    days = sorted((clock() - datetime.combine(d, datetime.min.time(), UTC)).total_seconds() / 86400
                  for d in received)  # fmt: skip
    assert after["Completed"] == str(len(received))
    assert after["Median"] == f"{percentile(days, 0.5):.1f}"
    assert after["95th percentile"] == f"{percentile(days, 0.95):.1f}"
    # Overdue: the erasure received on May 1st and the export of June 2039 (both past due).
    assert int(after["Overdue"]) == int(before["Overdue"]) + 2
    assert int(after["At risk"]) == int(before["At risk"]) + 2
    assert int(after["Open requests"]) == int(before["Open requests"]) + 3
    months = dict(re.findall(r'<th scope="row">(\d{4}-\d\d)</th>\s*<td><meter[^>]*></meter> (\d+)',
                             shown.text))  # fmt: skip
    assert len(months) == 12
    assert (months["2040-06"], months["2040-05"], months["2039-07"]) == ("2", "3", "1")
    assert sum(int(n) for n in months.values()) == 6


def figures(page: str) -> dict[str, str]:
    """The dashboard's facts: term → value (the flag's markup stripped)."""
    found = re.findall(r"<dt>([^<(]+?)(?: \([^)]*\))?</dt><dd>(.*?)</dd>", page)
    return {term: re.sub(r"<[^>]+>", "", value) for term, value in found}


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def test_signing_out_ends_the_dev_session_and_is_audited(
    client: TestClient,
    make_staffer: MakeStaffer,  # noqa: F811
    database_url: str,
) -> None:
    viewer = signed_in(client, make_staffer(Role.VIEWER))
    queue = viewer.get(client, "/")

    out = viewer.post(client, "/sign-out", {})

    assert "Sign out" in queue.text
    assert out.status_code == 200
    assert "Signed out" in out.text
    cookie = out.headers["set-cookie"]
    assert cookie.startswith('focus_console=""') or "max-age=0" in cookie.lower()
    assert "path=/console" in cookie.lower()
    assert [r["actor"] for r in audit_rows(database_url, "signed_out")][-1] == viewer.id


def test_any_other_console_path_is_a_console_404_page(
    client: TestClient,
    make_staffer: MakeStaffer,  # noqa: F811
) -> None:
    viewer = make_staffer(Role.VIEWER)

    for path in ("/nowhere", "/requests/not-an-id", "/static/other.css"):
        missing = viewer.get(client, path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("text/html")
        assert missing.headers["content-security-policy"] == CSP
        assert "<h1>Not found</h1>" in missing.text


@pytest.fixture
def firebase_user(auth_emulator: AuthEmulator) -> Iterator[auth.UserRecord]:
    """An account with an email and a phone number, on the Auth emulator."""
    name = f"test-console-{secrets.token_hex(4)}"
    FirebaseAccounts(PROJECT_ID, app_name=name)  # its named app, for the direct calls here
    app = firebase_admin.get_app(name)
    email, phone = f"{secrets.token_hex(6)}@example.com", f"+1555{secrets.randbelow(10**7):07}"
    yield auth.create_user(email=email, phone_number=phone, app=app)
    firebase_admin.delete_app(app)


def test_staff_find_the_subject_by_email_or_phone_on_firebase_auth(
    settings: Settings,
    database_url: str,
    firebase_user: auth.UserRecord,
    make_staffer: MakeStaffer,  # noqa: F811
) -> None:
    operator = make_staffer(Role.OPERATOR)
    with configured_apps(
        settings, database_url, auth=AuthMode.FIREBASE, firebase_project_id=PROJECT_ID
    ) as make:
        console = make()
        new = operator.get(console, "/requests/new")

        def export_of(find_by: str, subject: str | None) -> httpx.Response:
            form = {"find_by": find_by, "subject": str(subject), "kind": "export"}
            return operator.post(console, "/requests", form | {"channel": "email"})

        by_email = export_of("email", firebase_user.email)
        by_phone = export_of("phone", firebase_user.phone_number)
        nobody = export_of("email", "nobody@example.com")
        malformed = export_of("phone", "call me")

    assert (
        '<option value="email">email</option><option value="phone">phone number</option>'
        in new.text
    )
    assert by_email.status_code == 303
    assert by_phone.headers["location"] == by_email.headers["location"]  # joined the open one
    assert nobody.status_code == 404
    assert "No account has this email." in nobody.text
    assert malformed.status_code == 422
    for response in (by_email, by_phone, nobody, malformed):
        assert firebase_user.uid not in response.text
        assert str(firebase_user.email) not in response.text
        assert str(firebase_user.phone_number) not in response.text
    lookups = [r for r in audit_rows(database_url, "subject_looked_up")
               if r["actor"] == operator.id]  # fmt: skip
    assert [(r["detail"]["by"], r["detail"]["found"]) for r in lookups] == [
        ("email", "yes"),
        ("phone", "yes"),
        ("email", "no"),
    ]
    assert firebase_user.email not in str(lookups)


def test_without_firebase_auth_the_subject_is_named_by_uid_only(
    client: TestClient,
    make_staffer: MakeStaffer,  # noqa: F811
) -> None:
    operator = make_staffer(Role.OPERATOR)

    new = operator.get(client, "/requests/new")
    refused = operator.post(
        client,
        "/requests",
        {"find_by": "email", "subject": "a@example.com", "kind": "export", "channel": "email"},
    )

    ways = re.search(r'<select id="find_by" name="find_by" required>(.*?)</select>', new.text)
    assert ways, new.text
    assert ways.group(1) == '<option value="uid">user id</option>'
    assert refused.status_code == 422
    assert "enter the subject's user id" in html.unescape(refused.text)
