"""The internal staff API (/staff/v1/privacy) as the compliance console calls it, on Postgres:
an operator opens an erasure, a second staff member approves it, a run completes it; each role
is held to what it may do; an app user's token, a removed member and a bad IAP assertion are
refused (403 `staff_only`) and the refusal is audited without personal data."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container
from app.settings import ConfigurationError, Environment, Settings, StaffAuthMode, check
from domain.staff import Role, add_staff, remove_staff
from identity.dev_issuer import load_or_create_secret
from identity.dev_staff import DevStaffTokens
from identity.iap import IAP_HEADER
from tests.conftest import ApiUser
from tests.integration.privacy.test_requests_from_the_app import call, rows_of, seed
from tests.support.configured_apps import configured_apps
from tests.unit.test_iap import AUDIENCE, FakeIap

BASE = "/staff/v1/privacy/requests"


@dataclass
class StaffCaller:
    id: str
    email: str
    headers: dict[str, str]


MakeStaff = Callable[..., StaffCaller]


@pytest.fixture
def make_staff(client: TestClient, container: Container, settings: Settings) -> MakeStaff:
    """A new staff member with these roles, and the dev staff token the console would send."""
    tokens = DevStaffTokens(load_or_create_secret(settings.dev_secret_path))
    assert container.services.staff is not None
    directory = container.services.staff.directory

    def make(*roles: Role) -> StaffCaller:
        email = f"staff-{uuid.uuid4().hex[:10]}@example.com"
        now = container.services.clock()
        add = functools.partial(add_staff, directory, email, roles, by="admin-test", at=now)
        member = call(client, add)
        return StaffCaller(member.id, email, {IAP_HEADER: tokens.issue(email)})

    return make


def audit_rows(database_url: str, action: str) -> list[dict[str, Any]]:
    query = (
        "SELECT actor, action, request_id, subject_hash, detail FROM privacy_audit"
        " WHERE action = %s ORDER BY seq"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(query, (action,)).fetchall()
    keys = ("actor", "action", "request_id", "subject_hash", "detail")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def open_erasure(client: TestClient, operator: StaffCaller, uid: str) -> dict[str, Any]:
    body = {"kind": "erasure", "uid": uid, "channel": "email", "verification_method": "id_check"}
    opened = client.post(BASE, headers=operator.headers, json=body)
    assert opened.status_code == 201, opened.text
    shown: dict[str, Any] = opened.json()
    return shown


def test_an_erasure_opened_by_an_operator_is_approved_by_another_and_run_to_its_end(
    client: TestClient,
    container: Container,
    alice: ApiUser,
    make_staff: MakeStaff,
    database_url: str,
) -> None:
    seed(client, alice)
    operator = make_staff(Role.OPERATOR, Role.APPROVER)
    approver, viewer = make_staff(Role.APPROVER), make_staff(Role.VIEWER)

    opened = open_erasure(client, operator, alice.uid)
    request_id = opened["request"]["id"]
    as_viewer = client.post(f"{BASE}/{request_id}/approve", headers=viewer.headers)
    own = client.post(f"{BASE}/{request_id}/approve", headers=operator.headers)
    dry = client.get(f"{BASE}/{request_id}/dry-run", headers=approver.headers).json()
    approved = client.post(f"{BASE}/{request_id}/approve", headers=approver.headers)
    ran = client.post(f"{BASE}/{request_id}/run", headers=operator.headers)
    call(client, container.task_worker.drain)  # the queue runs the steps (approval queued one)
    done = client.get(f"{BASE}/{request_id}", headers=viewer.headers).json()
    trail = client.get(f"{BASE}/{request_id}/audit", headers=viewer.headers).json()

    assert opened["request"]["state"] == "verified"
    assert opened["request"]["created_by"] == operator.id
    assert alice.uid not in str(opened)
    assert (as_viewer.status_code, as_viewer.json()["code"]) == (403, "role_required")
    assert as_viewer.json()["role"] == "approver"
    assert as_viewer.headers["content-type"] == "application/problem+json"
    assert (own.status_code, own.json()["code"]) == (403, "forbidden")
    assert approved.json()["request"]["approved_by"] == approver.id
    # What the approver read first: the records the erasure would touch, store by store.
    assert dry["records"]["users"] == 1
    assert dry["records"]["blocklists"] == 1
    assert dry["records"]["firebase_account"] is None  # no Firebase project in these tests
    assert ran.status_code == 202, ran.text
    assert done["request"]["state"] == "completed"
    assert {s["state"] for s in done["steps"]} == {"done"}
    assert set(rows_of(database_url, alice.uid).values()) == {0}
    actions = [(e["actor"], e["action"]) for e in trail["entries"]]
    assert actions[:5] == [
        (operator.id, "received"),
        (operator.id, "verified"),
        (approver.id, "viewed"),  # the dry run, read before approving
        (approver.id, "approved"),
        (operator.id, "run_requested"),
    ]
    assert actions[-1] == (viewer.id, "viewed")
    assert alice.uid not in str(trail)


def test_each_route_checks_the_callers_role(
    client: TestClient, bob: ApiUser, make_staff: MakeStaff
) -> None:
    viewer, operator = make_staff(Role.VIEWER), make_staff(Role.OPERATOR)
    body = {"kind": "export", "uid": bob.uid, "channel": "support"}

    by_viewer = client.post(BASE, headers=viewer.headers, json=body)
    opened = client.post(BASE, headers=operator.headers, json=body).json()["request"]
    approve = client.post(f"{BASE}/{opened['id']}/approve", headers=operator.headers)
    listed = client.get(BASE, params={"open": "true"}, headers=viewer.headers)
    shown = client.get(f"{BASE}/{opened['id']}", headers=viewer.headers)

    assert (by_viewer.status_code, by_viewer.json()["role"]) == (403, "operator")
    assert (approve.status_code, approve.json()["role"]) == (403, "approver")
    assert opened["id"] in [r["id"] for r in listed.json()["requests"]]
    assert shown.json()["request"]["clock"]["paused"] is True  # identity not verified yet
    assert shown.json()["steps"]


def test_an_app_users_token_is_refused_and_the_refusal_audited_without_personal_data(
    client: TestClient, alice: ApiUser, database_url: str
) -> None:
    before = len(audit_rows(database_url, "staff_api_refused"))

    in_authorization = client.get(BASE, headers=alice.headers)
    in_iap_header = client.post(
        BASE,
        headers={IAP_HEADER: alice.token},
        json={"kind": "erasure", "uid": alice.uid, "channel": "email"},
    )

    for refused in (in_authorization, in_iap_header):
        assert (refused.status_code, refused.json()["code"]) == (403, "staff_only")
        assert refused.headers["content-type"] == "application/problem+json"
    rows = audit_rows(database_url, "staff_api_refused")[before:]
    assert [(r["actor"], r["detail"]["reason"]) for r in rows] == [
        ("unknown", "assertion_missing"),
        ("unknown", "token_invalid"),
    ]
    assert rows[1]["detail"]["route"] == "/staff/v1/privacy/requests"
    assert alice.uid not in str(rows)
    assert alice.token not in str(rows)


def test_a_removed_staff_member_is_refused(
    client: TestClient, container: Container, make_staff: MakeStaff
) -> None:
    viewer = make_staff(Role.VIEWER)
    assert client.get(BASE, headers=viewer.headers).status_code == 200
    assert container.services.staff is not None
    remove = functools.partial(
        remove_staff,
        container.services.staff.directory,
        viewer.email,
        by="admin-test",
        at=container.services.clock(),
    )
    call(client, remove)

    refused = client.get(BASE, headers=viewer.headers)

    assert (refused.status_code, refused.json()["code"]) == (403, "staff_only")


def test_the_staff_api_is_not_in_the_apps_spec(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith("/staff")]


@pytest.fixture
def iap() -> Iterator[FakeIap]:
    fake = FakeIap()
    yield fake
    fake.stop()


def test_behind_iap_only_a_valid_assertion_for_our_audience_is_a_staff_identity(
    settings: Settings, database_url: str, iap: FakeIap, make_staff: MakeStaff
) -> None:
    viewer = make_staff(Role.VIEWER)
    behind_iap = {"staff_auth": "iap", "iap_audience": AUDIENCE, "iap_jwks_url": iap.jwks_url}
    with configured_apps(settings, database_url, **behind_iap) as make:
        staff_api = make()
        expired = {"iat": 1_700_000_000, "exp": 1_700_000_600}
        valid = staff_api.get(BASE, headers=iap.headers(viewer.email))
        wrong_audience = staff_api.get(BASE, headers=iap.headers(viewer.email, aud="other"))
        too_old = staff_api.get(BASE, headers=iap.headers(viewer.email, **expired))
        forged = FakeIap()
        try:
            signed_elsewhere = staff_api.get(BASE, headers=forged.headers(viewer.email))
        finally:
            forged.stop()
        dev_token = staff_api.get(BASE, headers=viewer.headers)

    assert valid.status_code == 200, valid.text
    for refused in (wrong_audience, too_old, signed_elsewhere, dev_token):
        assert (refused.status_code, refused.json()["code"]) == (403, "staff_only")


def test_production_refuses_the_dev_staff_verifier_and_an_iap_api_without_audience(
    tmp_path: Path,
) -> None:
    production = Settings(_env_file=None, env=Environment.PRODUCTION, data_dir=tmp_path)

    with pytest.raises(ConfigurationError, match="dev staff tokens are refused"):
        check(production.model_copy(update={"staff_auth": StaffAuthMode.DEV}))
    with pytest.raises(ConfigurationError, match="FOCUS_IAP_AUDIENCE"):
        check(production.model_copy(update={"staff_api": True}))
    assert production.staff_auth_mode is StaffAuthMode.IAP
    assert production.serves_staff_api is False
