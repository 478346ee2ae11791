"""What the console refuses in the browser: a viewer's approval (no form is shown, and one
posted anyway gets the "Role needed" page), a form posted without its CSRF token ("Form
expired"), and IAP assertions that are forged or expired ("Staff only")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, expect

from identity.iap import IAP_HEADER
from tests.browser.conftest import SignIn
from tests.browser.console import (
    LAPTOP,
    Console,
    StaffPool,
    console_server,
    open_request,
    state_of,
)
from tests.unit.test_iap import AUDIENCE, FakeIap

ACTIONS = ("Verify", "Approve", "Run", "Extend", "Refuse", "Cancel the request")


def test_a_viewer_sees_no_action_and_an_approval_posted_anyway_is_refused(
    console: Console, sign_in_as: SignIn
) -> None:
    operator = sign_in_as("roles_operator")
    request_id = open_request(operator, "u-roles-subject", "erasure", verified_by="email_reply")
    viewer = sign_in_as("roles_viewer")

    viewer.goto(f"/console/requests/{request_id}")
    expect(state_of(viewer)).to_have_text("verified")
    expect(viewer.get_by_role("heading", name="Actions")).to_have_count(0)
    for action in ACTIONS:
        expect(viewer.get_by_role("button", name=action, exact=True)).to_have_count(0)
    expect(viewer.get_by_role("link", name="New request")).to_have_count(0)
    csrf = viewer.locator("input[name=csrf]").first.input_value()  # the viewer's own, valid
    posted = viewer.request.post(
        f"/console/requests/{request_id}/approve", form={"csrf": csrf}, max_redirects=0
    )
    viewer.set_content(posted.text())

    assert posted.status == 403
    expect(viewer.get_by_role("heading", level=1)).to_have_text("Role needed")
    expect(viewer.get_by_text("This needs the approver role")).to_be_visible()
    viewer.goto(f"/console/requests/{request_id}")
    expect(state_of(viewer)).to_have_text("verified")


def test_a_form_without_its_csrf_token_is_refused(sign_in_as: SignIn) -> None:
    operator = sign_in_as("csrf_operator")
    operator.get_by_role("link", name="New request").click()
    operator.get_by_label("Subject's user id").fill("u-csrf-subject")
    form = operator.locator("form").filter(
        has=operator.get_by_role("button", name="Open the request")
    )
    form.evaluate("form => form.querySelector('input[name=csrf]').remove()")
    expect(form.locator("input[name=csrf]")).to_have_count(0)

    with operator.expect_response(lambda r: r.request.method == "POST") as answer:
        operator.get_by_role("button", name="Open the request").click()

    assert answer.value.status == 403
    expect(operator.get_by_role("heading", level=1)).to_have_text("Form expired")
    expect(operator.get_by_text("Reload the page and submit the form again")).to_be_visible()


@pytest.fixture(scope="module")
def iap() -> Iterator[FakeIap]:
    fake = FakeIap()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def behind_iap(
    console: Console, iap: FakeIap, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    """A second `focus serve` on the same database that trusts IAP's assertions only."""
    iap_env = {
        "FOCUS_STAFF_AUTH": "iap",
        "FOCUS_IAP_AUDIENCE": AUDIENCE,
        "FOCUS_IAP_JWKS_URL": iap.jwks_url,
        "FOCUS_RELAY_IN_PROCESS": "false",
    }
    cwd = Path(tmp_path_factory.mktemp("behind-iap"))
    with console_server(console.env["DATABASE_URL"], cwd, **iap_env) as server:
        yield server


def test_forged_and_expired_iap_assertions_get_the_staff_only_page(
    browser: Browser, behind_iap: Console, iap: FakeIap, staff: StaffPool
) -> None:
    member = staff.member("iap_viewer")
    an_hour_ago = int(time.time()) - 3600
    forged = iap.assertion(member.email, key=ec.generate_private_key(ec.SECP256R1()))
    expired = iap.assertion(member.email, iat=an_hour_ago - 600, exp=an_hour_ago)
    valid = iap.assertion(member.email)
    context = browser.new_context(base_url=behind_iap.url, viewport=LAPTOP)
    page = context.new_page()
    try:
        for assertion in (forged, expired):
            context.set_extra_http_headers({IAP_HEADER: assertion})
            answer = page.goto("/console/")
            assert answer is not None
            assert answer.status == 403
            expect(page.get_by_role("heading", level=1)).to_have_text("Staff only")
            expect(page.get_by_text("for compliance staff only")).to_be_visible()
            expect(page.get_by_role("navigation", name="Console")).to_have_count(0)
        no_sign_in = page.goto("/console/dev-sign-in")
        assert no_sign_in is not None
        assert no_sign_in.status in (403, 404)

        context.set_extra_http_headers({IAP_HEADER: valid})
        answer = page.goto("/console/")
        assert answer is not None
        assert answer.status == 200
        expect(page.get_by_role("heading", level=1)).to_have_text("Open requests")
        expect(page.get_by_text(f"Signed in as {member.email}")).to_be_visible()
    finally:
        context.close()
