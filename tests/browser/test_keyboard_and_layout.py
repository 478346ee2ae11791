"""The console by keyboard alone (skip link, fields, Enter to submit), and every screen of
`SCREENS` at a tablet's and a laptop's width without scrolling sideways (wide tables scroll
inside their own `.scroll` wrapper)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import ScreensState
from tests.browser.console import LAPTOP, TABLET, Console, StaffPool, request_id_of
from tests.browser.screens import SCREENS, Screen, show

MAX_TABS = 12


def tab_to(page: Page, target: Locator) -> None:
    """Presses Tab until `target` has the focus; each element on the way shows it has it."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        assert focused["outline"] >= 2, f"no visible focus on {focused['name']}"
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} not reached in {MAX_TABS} presses of Tab")


_FOCUSED = """() => {
  const element = document.activeElement, style = getComputedStyle(element);
  const width = style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth);
  return {name: element.outerHTML.slice(0, 80), outline: width};
}"""


def test_an_operator_signs_in_and_opens_a_request_by_keyboard_alone(
    browser: Browser, console: Console, staff: StaffPool
) -> None:
    member = staff.member("keyboard_operator")
    context = browser.new_context(base_url=console.url, viewport=LAPTOP)
    page = context.new_page()
    try:
        page.goto("/console/dev-sign-in")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()  # shown once focused
        page.keyboard.press("Enter")
        expect(page.get_by_role("main")).to_be_focused()
        tab_to(page, page.get_by_label("Staff email"))
        page.keyboard.type(member.email)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Open requests")

        tab_to(page, page.get_by_role("link", name="New request"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("New request")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_label("Subject's user id"))
        page.keyboard.type("u-keyboard-subject")
        page.keyboard.press("Enter")

        expect(page.get_by_role("heading", level=1)).to_contain_text("request")
        request_id = request_id_of(page)
        tab_to(page, page.get_by_label("Verified by (method)"))
        page.keyboard.type("email_reply")
        page.keyboard.press("Enter")
        expect(page.get_by_text("State:").locator("strong")).to_have_text("verified")
        assert request_id_of(page) == request_id
    finally:
        context.close()


def scrolls_sideways(page: Page) -> bool:
    overflow: bool = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    return overflow


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_no_screen_scrolls_sideways_on_a_tablet_or_a_laptop(
    screen: Screen, screens: ScreensState
) -> None:
    page = show(screen, screens.pages, screens.seeded)
    wide = []
    for name, size in (("tablet", TABLET), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        if scrolls_sideways(page):
            wide.append(name)
    page.set_viewport_size(LAPTOP)

    assert not wide, f"{screen.name} scrolls sideways on a {' and a '.join(wide)}"
