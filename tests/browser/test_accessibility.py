"""Every screen of the console (`SCREENS`) checked with axe-core in the browser: no violation of
impact serious or critical. axe is put in the page through the DevTools protocol, which the
console's CSP (`script-src 'none'`) does not govern; the console itself runs no script."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import ScreensState
from tests.browser.console import AXE
from tests.browser.screens import SCREENS, Screen, show

SERIOUS = {"serious", "critical"}
_RUN = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")),
  }));
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci installs axe-core)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text() + "\n;true")
    found: list[dict[str, Any]] = page.evaluate(_RUN)
    return found


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
def test_no_serious_accessibility_violation(screen: Screen, screens: ScreensState) -> None:
    page = show(screen, screens.pages, screens.seeded)

    serious = [v for v in violations(page) if v["impact"] in SERIOUS]

    assert not serious, f"{screen.name}:\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']}; at {', '.join(v['targets'])}" for v in serious
    )
