"""The compliance console (/console) on Postgres, through the TestClient: an operator signs in
(the dev sign-in's cookie), opens an erasure and verifies it, cannot approve their own; an
approver approves; the queue lists it; a run completes it. Roles, CSRF tokens and staff
identity are checked on every page; every answer carries the security headers, and the
subject's uid is never shown back nor put in a URL."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from api.console.access import csrf_token
from api.staff.services import StaffServices
from app.bootstrap import Container
from app.settings import ConfigurationError, Environment, Settings, check
from domain.staff import Role, add_staff
from identity.dev_issuer import load_or_create_secret
from identity.dev_staff import DevStaffTokens
from identity.iap import IAP_HEADER
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call, seed
from tests.integration.test_staff_api import audit_rows
from tests.support.configured_apps import configured_apps
from tests.unit.test_iap import AUDIENCE, FakeIap

CONSOLE = "/console"
LOCAL = "http://127.0.0.1"
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@dataclass
class Staffer:
    """A staff member as the console sees them: the header (or cookie) that identifies them."""

    id: str
    email: str
    headers: dict[str, str]
    csrf: str
    """The token every form of theirs carries (an HMAC of their staff id)."""
    seen: list[httpx.Response] = field(default_factory=list)

    def get(self, client: TestClient, path: str) -> httpx.Response:
        response = client.get(f"{CONSOLE}{path}", headers=self.headers, follow_redirects=False)
        self.seen.append(response)
        return response

    def post(
        self, client: TestClient, path: str, form: dict[str, str], *, csrf: bool = True
    ) -> httpx.Response:
        if csrf:
            form = {"csrf": self.csrf, **form}
        response = client.post(
            f"{CONSOLE}{path}", headers=self.headers, data=form, follow_redirects=False
        )
        self.seen.append(response)
        return response


MakeStaffer = Callable[..., Staffer]


@pytest.fixture
def make_staffer(client: TestClient, container: Container, settings: Settings) -> MakeStaffer:
    tokens = DevStaffTokens(load_or_create_secret(settings.dev_secret_path))
    assert container.services.staff is not None
    directory = container.services.staff.directory

    def make(*roles: Role) -> Staffer:
        email = f"staff-{uuid.uuid4().hex[:10]}@example.com"
        now = container.services.clock()
        member = call(
            client, functools.partial(add_staff, directory, email, roles, by="admin-test", at=now)
        )
        csrf = csrf_token(staff_of(container), member.id)
        return Staffer(member.id, email, {IAP_HEADER: tokens.issue(email)}, csrf)

    return make


def staff_of(container: Container) -> StaffServices:
    assert container.services.staff is not None
    return container.services.staff


def csrf_of(response: httpx.Response) -> str:
    found = _CSRF.search(response.text)
    assert found, response.text
    return found.group(1)


def signed_in(client: TestClient, staffer: Staffer) -> Staffer:
    """Signs in through the dev sign-in over plain http on this machine; the cookie only."""
    form = client.get(f"{LOCAL}{CONSOLE}/dev-sign-in")
    answer = client.post(
        f"{LOCAL}{CONSOLE}/dev-sign-in",
        data={"csrf": csrf_of(form), "email": staffer.email},
        follow_redirects=False,
    )
    client.cookies.clear()
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= attributes
    assert "secure" not in attributes  # plain http on 127.0.0.1 only
    value = cookie.split(";")[0].split("=", 1)[1]
    cookie_header = {"cookie": f"focus_console={value}"}
    return Staffer(staffer.id, staffer.email, cookie_header, staffer.csrf, [form, answer])


def test_an_erasure_goes_from_opening_to_its_end_through_the_console(
    client: TestClient, container: Container, alice: ApiUser, make_staffer: MakeStaffer
) -> None:
    seed(client, alice)
    operator = signed_in(client, make_staffer(Role.OPERATOR, Role.APPROVER))
    approver, viewer = make_staffer(Role.APPROVER), make_staffer(Role.VIEWER)

    new = operator.get(client, "/requests/new")
    opened = operator.post(
        client, "/requests", {"subject": alice.uid, "kind": "erasure", "channel": "email"}
    )
    location = opened.headers["location"]
    request_id = location.rsplit("/", 1)[1]
    detail = f"/requests/{request_id}"
    before = operator.get(client, detail)
    verified = operator.post(client, f"{detail}/verify", {"method": "id_check"})
    own = operator.post(client, f"{detail}/approve", {})
    as_viewer = viewer.get(client, detail)
    approve_as_viewer = viewer.post(client, f"{detail}/approve", {})
    approved = approver.post(client, f"{detail}/approve", {})
    queue = viewer.get(client, "/")
    ran = operator.post(client, f"{detail}/run", {})
    call(client, container.task_worker.drain)
    done = viewer.get(client, detail)
    trail = viewer.get(client, f"/audit?request={request_id}")

    assert new.status_code == 200
    assert 'for="subject"' in new.text
    assert opened.status_code == 303
    assert location == f"{CONSOLE}/requests/{request_id}"
    assert "/verify" in before.text
    assert "paused" in before.text
    assert (verified.status_code, approved.status_code, ran.status_code) == (303, 303, 303)
    assert own.status_code == 403
    assert 'role="alert"' in own.text
    assert "/approve" not in as_viewer.text
    # The approver sees what the erasure will touch before approving; a finished one does not.
    touched = re.search(r'<th scope="row">blocklists</th><td>(\d+)</td>', as_viewer.text)
    assert touched, as_viewer.text
    assert touched.group(1) == "1"
    assert "not in this deployment" in as_viewer.text  # Firebase Auth, in these tests
    assert approve_as_viewer.status_code == 403
    assert "approver role" in approve_as_viewer.text
    assert request_id[-8:] in queue.text
    due = re.search(r"<td>(\d{4}-\d\d-\d\d)</td>\s*<td>\d+", queue.text)
    assert due, queue.text
    assert "<strong>completed</strong>" in done.text
    assert "What it will touch" not in done.text
    assert "step-done" in done.text
    assert "step-pending" not in done.text
    scan = re.search(r'<th scope="row">verification_scan</th>(.*?)</tr>', done.text, re.S)
    assert scan, done.text
    counts = re.findall(r'<span class="count">[^<:]+: (\d+)</span>', scan.group(1))
    assert counts
    assert set(counts) == {"0"}
    assert all(action in trail.text for action in ("received", "verified", "approved"))
    assert operator.id in trail.text
    assert approver.id in trail.text
    for response in operator.seen + approver.seen + viewer.seen:
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert alice.uid not in response.text
        assert alice.uid not in response.headers.get("location", "")
        for link in re.findall(r'(?:href|action)="([^"]*)"', response.text):
            assert alice.uid not in link


def test_a_post_without_its_csrf_token_is_refused_and_audited(
    client: TestClient, bob: ApiUser, make_staffer: MakeStaffer, database_url: str
) -> None:
    operator = make_staffer(Role.OPERATOR)
    before = len(audit_rows(database_url, "console_csrf_refused"))
    body = {"subject": bob.uid, "kind": "export", "channel": "support"}

    missing = operator.post(client, "/requests", body, csrf=False)
    forged = operator.post(client, "/requests", {"csrf": "0" * 64, **body}, csrf=False)

    for refused in (missing, forged):
        assert refused.status_code == 403
        assert refused.headers["content-security-policy"] == CSP
        assert bob.uid not in refused.text
    rows = audit_rows(database_url, "console_csrf_refused")[before:]
    assert [(r["actor"], r["detail"]["route"]) for r in rows] == [
        (operator.id, "/console/requests"),
        (operator.id, "/console/requests"),
    ]


def test_an_app_users_token_is_not_a_staff_identity(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    before = len(audit_rows(database_url, "staff_api_refused"))

    as_header = client.get(f"{CONSOLE}/", headers={IAP_HEADER: alice.token})
    as_cookie = client.get(f"{CONSOLE}/", headers={"cookie": f"focus_console={alice.token}"})
    nothing = client.get(f"{CONSOLE}/requests/new")

    for refused in (as_header, as_cookie, nothing):
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert refused.headers["content-security-policy"] == CSP
        assert "compliance staff only" in refused.text
        assert alice.uid not in refused.text
    rows = audit_rows(database_url, "staff_api_refused")[before:]
    assert [(r["actor"], r["detail"]["reason"]) for r in rows] == [
        ("unknown", "token_invalid"),
        ("unknown", "token_invalid"),
        ("unknown", "assertion_missing"),
    ]
    assert alice.token not in str(rows)


def test_a_queue_filtered_to_nothing_says_so(client: TestClient, make_staffer: MakeStaffer) -> None:
    viewer = make_staffer(Role.VIEWER)

    empty = viewer.get(client, "/?kind=export&state=approved")
    unknown = viewer.get(client, "/?kind=nonsense")

    assert empty.status_code == 200
    assert "No open requests match these filters" in empty.text
    assert unknown.status_code == 400


@pytest.fixture
def iap() -> Iterator[FakeIap]:
    fake = FakeIap()
    yield fake
    fake.stop()


def test_behind_iap_there_is_no_dev_sign_in_and_iaps_assertion_identifies(
    settings: Settings, database_url: str, iap: FakeIap, make_staffer: MakeStaffer
) -> None:
    viewer = make_staffer(Role.VIEWER)
    behind_iap = {"staff_auth": "iap", "iap_audience": AUDIENCE, "iap_jwks_url": iap.jwks_url}
    with configured_apps(settings, database_url, **behind_iap) as make:
        console = make()
        sign_in = console.get(f"{CONSOLE}/dev-sign-in")
        queue = console.get(f"{CONSOLE}/", headers=iap.headers(viewer.email))
        dev_cookie = console.get(
            f"{CONSOLE}/", headers={"cookie": f"focus_console={viewer.headers[IAP_HEADER]}"}
        )

    assert sign_in.status_code == 404
    assert queue.status_code == 200, queue.text
    assert dev_cookie.status_code == 403


def test_production_needs_the_consoles_csrf_key(tmp_path: Path) -> None:
    production = Settings(
        _env_file=None,
        env=Environment.PRODUCTION,
        data_dir=tmp_path,
        staff_api=True,
        iap_audience=AUDIENCE,
    )

    with pytest.raises(ConfigurationError, match="FOCUS_CONSOLE_CSRF_KEY"):
        check(production)
