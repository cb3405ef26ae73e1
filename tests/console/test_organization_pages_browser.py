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
from sqlalchemy.orm import Session

from app.accounts.service import create_user
from app.auth.models import Role
from app.auth.service import create_key
from tests.conftest import example
from tests.console.browsing import scan, served_console, shot, sign_in, tab_to
from tests.console.conftest import PASSWORD

# One chromium at a time, with the other browser tests (see XDIST_GROUPS in tests/conftest.py).
pytestmark = pytest.mark.xdist_group("browser")

EMAIL = "dana@example.org"


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


def _seed(session: Session, *_: Any) -> str:
    """A consultant of no organization yet; the token of an admin key."""
    create_user(
        session, email=EMAIL, name="Dana Whitfield", role=Role.CONSULTANT, password=PASSWORD
    )
    return create_key(session, Role.ADMIN, []).token


@pytest.fixture(scope="module")
def live(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with served_console(tmp_path_factory.mktemp("console"), seed=_seed) as served:
        yield Live(served.url, served.seeded)


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


def test_the_pages_pass_axe_and_the_settings_work_by_keyboard(browser: Any, live: Live) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, live.url, EMAIL, PASSWORD)
        page.goto(f"{live.url}/console/organizations/new")
        scan(page, "new organization")
        page.click("text=Create organization")  # nothing filled in: every field is named
        assert page.locator("#error-summary").is_visible()
        scan(page, "new organization, refused")

        organization = _create(page, live, "Lakeside Community Hospital")
        live.submit(organization)
        live.submit(organization)
        page.reload()
        scan(page, "organization")

        # Keyboard only: from the top of the page to the budget, type, and watch the preview.
        page.locator("body").focus()
        tab_to(page, "#settings-budget")
        page.keyboard.type("40000")
        preview = page.locator("#roadmap-preview")
        preview.get_by_text("$40,000").wait_for()
        assert "Total cost" in preview.inner_text()
        tab_to(page, "#settings-concurrent-actions")
        page.keyboard.type("99")
        preview.get_by_text("Actions at once").wait_for()  # the problem, named
        page.keyboard.press("Backspace")
        page.keyboard.press("Backspace")
        page.keyboard.type("2")
        preview.get_by_text("Levels now and at the end of the plan").wait_for()
        scan(page, "organization, live preview")
        shot(page, "organization")

        # Then Preview by keyboard: the preview page, with the form as typed.
        tab_to(page, "#settings-notes")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")  # past Save settings, to Preview
        assert page.evaluate("document.activeElement.textContent.trim()") == "Preview"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/roadmap-preview\?.*"))
        assert "csrf_token" in page.url  # sent along, and ignored by the preview
        assert page.input_value("#settings-budget") == "40000"
        scan(page, "roadmap preview")
        shot(page, "roadmap-preview")

        # Save by keyboard.
        tab_to(page, "#settings-notes")
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
        sign_in(page, live.url, EMAIL, PASSWORD)
        organization = _create(page, live, "Pine Ridge Hospital")
        live.submit(organization)

        page.fill("#invite-expires-in-days", "14")
        page.click("text=Create invitation link")
        link = page.input_value("#created-link-url")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/i/[\w.-]+", link)
        assert "/i/" not in page.url
        shot(page, "invitation-created")
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
