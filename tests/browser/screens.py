"""Every screen of the console, in one list (`SCREENS`): the accessibility check, the layout
check at tablet and laptop widths and the screenshots all go through it. A new screen is one
more `Screen(...)` line.

`seed` puts the console in a realistic state first: a request received today (its clock
paused until identity is verified), one at risk and one overdue (received weeks ago, verified on
receipt, waiting for approval), and a completed export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.console import (
    Console,
    StaffPool,
    app_user,
    open_request,
    sign_in,
    wait_until,
)

MISSING_REQUEST = "00000000-0000-7000-8000-000000000000"


@dataclass(frozen=True)
class Seeded:
    """The requests the screens show."""

    received: str
    """An erasure received today, identity not verified yet."""
    at_risk: str
    """An erasure received 25 days ago, verified then, waiting for approval (with a dry run)."""
    overdue: str
    """An erasure received 40 days ago, verified then, waiting for approval."""
    completed: str
    """An export, run to its end."""
    leaver: str
    """The email of a staff member who signs in only to sign out."""


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def seed(console: Console, page: Page, leaver: str) -> Seeded:
    """Opens the requests as an operator does, on `page` (an operator's, signed in)."""
    received = open_request(page, app_user(console).uid, "erasure", channel="support")
    at_risk = open_request(
        page, app_user(console).uid, "erasure", received_on=days_ago(25), verified_by="email_reply"
    )
    overdue = open_request(
        page, app_user(console).uid, "erasure", received_on=days_ago(40), verified_by="id_check"
    )
    completed = open_request(page, app_user(console).uid, "export", verified_by="email_reply")
    page.get_by_role("button", name="Run", exact=True).click()
    console.work_the_queue()
    wait_until(page, f"/console/requests/{completed}", "completed")
    return Seeded(received, at_risk, overdue, completed, leaver)


def _with_an_error(page: Page, seeded: Seeded) -> None:
    """Submits "New request" with a day of receipt in the future: the page says what is wrong."""
    page.get_by_label("Subject's user id").fill("u-future")
    page.get_by_label("Received on").fill(days_ago(-3))
    page.get_by_role("button", name="Open the request").click()
    expect(page.get_by_role("alert")).to_contain_text("Not done")


def _hand_over(page: Page, seeded: Seeded) -> None:
    page.get_by_role("button", name="Download the export").click()


def _sign_in_and_out(page: Page, seeded: Seeded) -> None:
    page.get_by_label("Staff email").fill(seeded.leaver)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").click()


@dataclass(frozen=True)
class Screen:
    name: str
    who: str | None
    """Whose browser shows it: "operator", "viewer", or None (nobody signed in)."""
    path: Callable[[Seeded], str]
    """Under /console."""
    heading: str
    """What its h1 says (in part)."""
    status: int = 200
    then: Callable[[Page, Seeded], None] | None = None
    """What the staff member does on it before it is looked at."""
    shows: str | None = None
    """Text the screen shows once ready, besides its heading."""


SCREENS = [
    Screen("dev sign-in", None, lambda s: "/dev-sign-in", "Dev sign-in"),
    Screen(
        "queue, nothing matching",
        "viewer",
        lambda s: "/?kind=export&state=approved",
        "Open requests",
        shows="No open requests match these filters",
    ),
    Screen("queue", "operator", lambda s: "/", "Open requests", shows="OVERDUE"),
    Screen("new request", "operator", lambda s: "/requests/new", "New request"),
    Screen(
        "new request, refused",
        "operator",
        lambda s: "/requests/new",
        "New request",
        then=_with_an_error,
    ),
    Screen(
        "request received, identity not verified",
        "operator",
        lambda s: f"/requests/{s.received}",
        "Erasure request",
        shows="paused: identity not verified",
    ),
    Screen(
        "request at risk, before approval (dry run)",
        "operator",
        lambda s: f"/requests/{s.at_risk}",
        "Erasure request",
        shows="What it will touch",
    ),
    Screen(
        "request overdue, as a viewer sees it",
        "viewer",
        lambda s: f"/requests/{s.overdue}",
        "Erasure request",
        shows="OVERDUE",
    ),
    Screen(
        "request completed",
        "operator",
        lambda s: f"/requests/{s.completed}",
        "Export request",
        shows="completed",
    ),
    Screen(
        "export handed over (download link)",
        "operator",
        lambda s: f"/requests/{s.completed}",
        "download",
        then=_hand_over,
        shows="Download the ZIP archive",
    ),
    Screen("audit of a request", "viewer", lambda s: f"/audit?request={s.completed}", "Audit"),
    Screen(
        "audit search",
        "viewer",
        lambda s: "/audit?action=verified",
        "Audit",
        shows="Export these entries as CSV",
    ),
    Screen(
        "audit search, refused",
        "viewer",
        lambda s: "/audit?from=yesterday",
        "Audit",
        status=400,
        shows="Not done",
    ),
    Screen("dashboard", "viewer", lambda s: "/dashboard", "Dashboard", shows="Requests per month"),
    Screen("signed out", None, lambda s: "/dev-sign-in", "Signed out", then=_sign_in_and_out),
    Screen("staff only (403)", None, lambda s: "/", "Staff only", status=403),
    Screen("role needed (403)", "viewer", lambda s: "/requests/new", "Role needed", status=403),
    Screen(
        "request not found (404)",
        "viewer",
        lambda s: f"/requests/{MISSING_REQUEST}",
        "Not found",
        status=404,
    ),
    Screen("no such page (404)", "viewer", lambda s: "/no-such-page", "Not found", status=404),
]


@dataclass
class Browsers:
    """One page per kind of visitor, signed in once."""

    operator: Page
    viewer: Page
    nobody: Page

    def of(self, screen: Screen) -> Page:
        return {"operator": self.operator, "viewer": self.viewer, None: self.nobody}[screen.who]

    def close(self) -> None:
        for page in (self.operator, self.viewer, self.nobody):
            page.context.close()


def browsers(browser: Browser, console: Console, staff: StaffPool, prefix: str) -> Browsers:
    """The pages of `<prefix>_operator` and `<prefix>_viewer` (of tests/browser/conftest.STAFF)."""
    operator = sign_in(browser, console, staff.member(f"{prefix}_operator"))
    viewer = sign_in(browser, console, staff.member(f"{prefix}_viewer"))
    nobody = browser.new_context(base_url=console.url, viewport=operator.viewport_size).new_page()
    return Browsers(operator, viewer, nobody)


def show(screen: Screen, pages: Browsers, seeded: Seeded) -> Page:
    """Opens the screen as its visitor does and waits until it shows what it should."""
    page = pages.of(screen)
    answer: Response | None = page.goto(f"/console{screen.path(seeded)}")
    assert answer is not None, screen.name
    assert answer.status == screen.status, f"{screen.name}: {answer.status}"
    if screen.then is not None:
        screen.then(page, seeded)
    expect(page.get_by_role("heading", level=1)).to_contain_text(screen.heading)
    if screen.shows is not None:
        expect(page.get_by_text(screen.shows).first).to_be_visible()
    return page
