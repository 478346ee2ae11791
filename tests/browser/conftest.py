"""One `focus serve` on a fresh database and one headless chromium for the whole session; each
test signs its own staff members in, each in a browser context of their own, and seeds its own
app users, so no test depends on another's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.engine import make_url

from tests.browser.console import (
    BrowserMissing,
    Console,
    StaffPool,
    console_env,
    fresh_database,
    launch,
    sign_in,
)
from tests.browser.screens import Browsers, Seeded, browsers, seed
from tests.support.processes import free_port
from tests.support.server import running_focus_serve

STAFF: dict[str, tuple[str, ...]] = {
    # test_erasure_journey
    "erasure_operator": ("operator", "approver"),
    "erasure_approver": ("approver",),
    # test_roles_and_forms
    "roles_operator": ("operator",),
    "roles_viewer": ("viewer",),
    "iap_viewer": ("viewer",),
    "csrf_operator": ("operator",),
    # test_export_journey
    "export_operator": ("operator",),
    # test_keyboard_and_layout
    "keyboard_operator": ("operator",),
    # the SCREENS of test_accessibility and test_keyboard_and_layout
    "screens_operator": ("operator", "approver"),
    "screens_viewer": ("viewer",),
    "screens_leaver": ("viewer",),
}
"""Every staff member the tests sign in, added when the session starts; a test uses its own."""
BY_CLI = frozenset({"iap_viewer"})
"""Added with `focus staff add`, as staff are added in production (the others more quickly)."""


@dataclass
class Site:
    console: Console
    staff: StaffPool


@pytest.fixture(scope="package")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = make_url(database_url).render_as_string(hide_password=False)
    cwd = tmp_path_factory.mktemp("console")
    with fresh_database(server) as url:
        port = free_port()
        console = Console(f"http://127.0.0.1:{port}", console_env(url, port), cwd)
        staff = StaffPool(console, by_cli=BY_CLI)
        try:
            staff.start(STAFF)  # those by the CLI while the server starts
            with running_focus_serve(console.env, cwd, port=port) as serve:
                console.server = serve
                for name in STAFF:
                    staff.member(name)
                yield Site(console, staff)
        finally:
            staff.stop()


@pytest.fixture(scope="package")
def console(site: Site) -> Console:
    return site.console


@pytest.fixture(scope="package")
def staff(site: Site) -> StaffPool:
    return site.staff


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which the asyncio tests that follow cannot share.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            chromium = launch(playwright)
        except BrowserMissing as missing:
            pytest.fail(str(missing), pytrace=False)
        yield chromium
        chromium.close()


SignIn = Callable[[str], Page]


@pytest.fixture
def sign_in_as(browser: Browser, console: Console, staff: StaffPool) -> Iterator[SignIn]:
    """Signs the named staff member (of STAFF) in, in a browser context of their own; every
    context opened is closed after the test."""
    opened: list[Page] = []

    def open_as(name: str) -> Page:
        page = sign_in(browser, console, staff.member(name))
        opened.append(page)
        return page

    yield open_as
    for page in opened:
        page.context.close()


@dataclass
class ScreensState:
    pages: Browsers
    seeded: Seeded


@pytest.fixture(scope="package")
def screens(browser: Browser, console: Console, staff: StaffPool) -> Iterator[ScreensState]:
    """The console seeded for `SCREENS`, and the pages that visit them (one per visitor)."""
    pages = browsers(browser, console, staff, "screens")
    try:
        leaver = staff.member("screens_leaver").email
        yield ScreensState(pages, seed(console, pages.operator, leaver))
    finally:
        pages.close()
