"""What the console's browser tests share: axe, screenshots, keyboard-only moves, signing in."""

from __future__ import annotations

import os
from typing import Any

from app.config import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DOCS = PROJECT_ROOT / "docs"


def scan(page: Any, name: str) -> None:
    """No serious or critical accessibility violations on the page (axe-core)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


def shot(page: Any, name: str, docs_name: str | None = None) -> None:
    """A full-page screenshot under test-artifacts/; with SMM_UPDATE_DOCS=1 the first
    screenful also goes to docs/ for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)
    if docs_name and os.environ.get("SMM_UPDATE_DOCS") == "1":
        page.screenshot(path=str(DOCS / docs_name))


def tab_to(page: Any, selector: str, limit: int = 300) -> None:
    """Press Tab until the element matching ``selector`` has the focus (no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(s) => document.activeElement !== null && document.activeElement.matches(s)",
            selector,
        ):
            return
    raise AssertionError(f"Tab never reached {selector}")


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    """Sign in through the form and land on the portfolio."""
    page.goto(f"{base}/console/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(f"{base}/console")
