"""An erasure from opening to its end, as two staff members do it in the browser: the operator
opens and verifies it and may not approve their own; a colleague approves in a browser of their
own; the operator runs it; the page shows every step done and the verification scan clean, the
audit trail (and its CSV) every step and action; the app API no longer knows the user."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import SignIn
from tests.browser.console import (
    Console,
    StaffPool,
    app_user,
    me_status,
    open_request,
    state_of,
    steps_of,
    table_rows,
    verify,
    wait_until,
)


def test_an_erasure_is_opened_verified_approved_by_a_colleague_and_run(
    console: Console, staff: StaffPool, sign_in_as: SignIn
) -> None:
    user = app_user(console)
    operator = sign_in_as("erasure_operator")
    request_id = open_request(operator, user.uid, "erasure")
    page = f"/console/requests/{request_id}"

    expect(state_of(operator)).to_have_text("received")
    expect(operator.get_by_text("paused: identity not verified")).to_be_visible()
    touched = operator.get_by_role("table", name="Records each store holds")
    expect(touched.get_by_role("row", name="blocklists 1", exact=True)).to_be_visible()
    verify(operator)

    operator.get_by_role("button", name="Approve").click()
    refusal = operator.get_by_role("alert")
    expect(refusal).to_contain_text("Not done")
    expect(refusal).to_contain_text("approved by a staff member other than its author")
    expect(state_of(operator)).to_have_text("verified")

    approver = sign_in_as("erasure_approver")
    approver.goto(page)
    expect(approver.get_by_role("heading", name="What it will touch")).to_be_visible()
    approver.get_by_role("button", name="Approve").click()
    expect(state_of(approver)).to_have_text("approved")
    expect(approver.get_by_role("button", name="Run")).to_have_count(0)  # an approver only

    operator.goto(page)
    approver_id = staff.member("erasure_approver").id
    expect(operator.get_by_text(approver_id, exact=True)).to_be_visible()  # "Approved by"
    operator.get_by_role("button", name="Run", exact=True).click()
    expect(state_of(operator)).to_have_text("approved")
    console.work_the_queue()
    wait_until(operator, page, "completed")

    steps = steps_of(operator)
    assert steps, "no steps shown"
    assert {s["Step"]: s["State"] for s in steps} == {s["Step"]: "done" for s in steps}
    scan = next(s for s in steps if s["Step"] == "verification_scan")
    found = [int(c.rsplit(":", 1)[1]) for c in scan["Detail"].split(",")]
    assert found, scan
    assert set(found) == {0}, scan
    expect(operator.get_by_role("heading", name="What it will touch")).to_have_count(0)
    expect(operator.get_by_role("heading", name="Actions")).to_have_count(0)

    operator.get_by_role("link", name="Audit trail").click()
    expect(operator.get_by_role("heading", level=1)).to_contain_text("Audit")
    trail = table_rows(operator.get_by_role("table"))
    actions = [row["Action"] for row in trail]
    for action in ("received", "verified", "approved", "run_requested", "started", "completed"):
        assert action in actions, actions
    done = {row["Categories"] for row in trail if row["Action"] == "step_done"}
    assert done == {s["Step"] for s in steps}
    actors = {row["Actor (staff id)"] for row in trail}
    assert {staff.member("erasure_operator").id, approver_id} <= actors
    with operator.expect_download() as download:
        operator.get_by_role("link", name="Export these entries as CSV").click()
    exported = list(csv.DictReader(Path(download.value.path()).read_text().splitlines()))
    in_csv = Counter(row["action"] for row in exported)
    assert not Counter(actions) - in_csv  # and what was recorded since: reading the trail
    assert set(in_csv - Counter(actions)) <= {"viewed", "audit_searched"}
    assert {row["request_id"] for row in exported} == {request_id}
    assert user.uid not in operator.content()

    assert me_status(console, user) in {(401, "account_erased"), (404, "not_found")}
