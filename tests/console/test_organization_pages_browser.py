"""The organization pages in a real browser: axe on each, the settings form and its live
preview used by keyboard alone, and the whole walk without JavaScript.

Debian's chromium through Playwright (never downloaded; skipped where missing), against a
uvicorn serving the app from a thread, on a SQLite database of the module's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.accounts.service import create_user
from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.main import create_app
from app.migrate import upgrade
from tests.conftest import example
from tests.console.conftest import PASSWORD
from tests.support.browser import launched_chromium
from tests.support.servers import served_in_thread

# One chromium at a time, with the other browser tests (see XDIST_GROUPS in tests/conftest.py).
pytestmark = pytest.mark.xdist_group("browser")

EMAIL = "dana@example.org"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


@dataclass
class Live:
    url: str
    key: str

    def submit(self, organization_id: str) -> None:
        """A submitted assessment of the organization, through the API."""
        body = {
            **example("community-hospital"),
            "status": "submitted",
            "organization_id": organization_id,
        }
        response = httpx.post(
            f"{self.url}/v1/assessments",
            json=body,
            headers={"Authorization": f"Bearer {self.key}"},
        )
        response.raise_for_status()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def live(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    where = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{where / 'smm.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        token = create_key(session, Role.ADMIN, []).token
        create_user(
            session, email=EMAIL, name="Dana Whitfield", role=Role.CONSULTANT, password=PASSWORD
        )
    settings = Settings(
        database_url=url,
        run_report_jobs=False,
        secret_key_file=where / "secret",
        questionnaires_dir=PROJECT_ROOT / "questionnaires",
        sign_in_rate_limit=10_000,
        sign_in_rate_burst=10_000,
    )
    try:
        with served_in_thread(create_app(settings)) as base:
            yield Live(base, token)
    finally:
        engine.dispose()


def _scan(page: Any, name: str) -> None:
    """No serious or critical accessibility violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def _sign_in(page: Any, live: Live) -> None:
    page.goto(f"{live.url}/console/sign-in")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(f"{live.url}/console")


def _create(page: Any, live: Live, name: str) -> str:
    """Create an organization through the form; its id."""
    page.goto(f"{live.url}/console/organizations/new")
    page.fill("#new-name", name)
    page.select_option("#new-type", "community_hospital")
    page.fill("#new-licensed-beds", "120")
    page.fill("#new-state", "MN")
    page.click("text=Create organization")
    page.wait_for_url(re.compile(r".*/console/organizations/[0-9a-f-]{36}$"))
    return str(page.url.rsplit("/", 1)[1])


def _tab_to(page: Any, element_id: str, limit: int = 300) -> None:
    """Press Tab until the element has the focus (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_the_pages_pass_axe_and_the_settings_work_by_keyboard(browser: Any, live: Live) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, live)
        page.goto(f"{live.url}/console/organizations/new")
        _scan(page, "new organization")
        page.click("text=Create organization")  # nothing filled in: every field is named
        assert page.locator("#error-summary").is_visible()
        _scan(page, "new organization, refused")

        organization = _create(page, live, "Lakeside Community Hospital")
        live.submit(organization)
        live.submit(organization)
        page.reload()
        _scan(page, "organization")

        # Keyboard only: from the top of the page to the budget, type, and watch the preview.
        page.locator("body").focus()
        _tab_to(page, "settings-budget")
        page.keyboard.type("40000")
        preview = page.locator("#roadmap-preview")
        preview.get_by_text("$40,000").wait_for()
        assert "Total cost" in preview.inner_text()
        _tab_to(page, "settings-concurrent-actions")
        page.keyboard.type("99")
        preview.get_by_text("Actions at once").wait_for()  # the problem, named
        page.keyboard.press("Backspace")
        page.keyboard.press("Backspace")
        page.keyboard.type("2")
        preview.get_by_text("Levels now and at the end of the plan").wait_for()
        _scan(page, "organization, live preview")
        _shot(page, "organization")

        # Then Preview by keyboard: the preview page, with the form as typed.
        _tab_to(page, "settings-notes")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # past Save settings, to Preview
        assert page.evaluate("document.activeElement.textContent.trim()") == "Preview"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/roadmap-preview\?.*"))
        assert "csrf_token" in page.url  # sent along, and ignored by the preview
        assert page.input_value("#settings-budget") == "40000"
        _scan(page, "roadmap preview")
        _shot(page, "roadmap-preview")

        # Save by keyboard.
        _tab_to(page, "settings-notes")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Save settings"
        page.keyboard.press("Enter")
        page.get_by_text("The roadmap settings are saved").wait_for()
        assert page.input_value("#settings-budget") == "40000"
    finally:
        context.close()


def test_without_javascript_create_invite_edit_and_preview(browser: Any, live: Live) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in(page, live)
        organization = _create(page, live, "Pine Ridge Hospital")
        live.submit(organization)

        page.fill("#invite-expires-in-days", "14")
        page.click("text=Create invitation link")
        link = page.input_value("#created-link-url")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/i/[\w.-]+", link)
        assert "/i/" not in page.url
        _shot(page, "invitation-created")
        page.goto(f"{live.url}/console/organizations/{organization}")
        assert link not in page.content()  # shown once
        assert page.get_by_text("Pending").count() == 1

        page.fill("#settings-budget", "30000")
        page.check("#settings-budget-scope-everything")
        page.click("button:has-text('Preview')")
        page.wait_for_url(re.compile(r".*/roadmap-preview\?.*"))
        assert page.input_value("#settings-budget") == "30000"
        assert page.is_checked("#settings-budget-scope-everything")
        assert "$30,000" in page.locator("#roadmap-preview").inner_text()

        page.fill("#settings-hourly-rate", "cheap")
        page.click("button:has-text('Preview')")
        assert page.locator("#error-summary").is_visible()
        assert page.locator("#settings-hourly-rate-error").is_visible()
        page.fill("#settings-hourly-rate", "55")

        page.click("button:has-text('Save settings')")
        page.get_by_text("The roadmap settings are saved").wait_for()
        assert page.input_value("#settings-budget") == "30000"
        assert page.input_value("#settings-hourly-rate") == "55"
    finally:
        context.close()
