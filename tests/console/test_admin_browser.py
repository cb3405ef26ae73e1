"""The admin pages in a real browser: axe on each of them, and a user added by keyboard only.

Debian's chromium through Playwright (never downloaded); skipped, saying why, where it is
missing, and required with SMM_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.accounts.service import create_user
from app.auth.models import Role
from app.auth.service import create_key
from app.organizations.models import Organization
from tests.console.browsing import served_console, shot_and_scan, sign_in, tab_to
from tests.console.conftest import PASSWORD

# Real browsers share the machine badly: these run in the browser tests' one worker.
pytestmark = pytest.mark.xdist_group("browser")


@dataclass
class Site:
    url: str
    key_id: str
    user_id: str


def _seed(session: Session, *_: Any) -> tuple[str, str]:
    """An admin, a consultant of an organization, and a partner key; the key's and the
    consultant's ids."""
    organization = Organization(
        name="Lakeside Community Hospital",
        type="community_hospital",
        licensed_beds=60,
        state="MN",
    )
    session.add(organization)
    session.flush()
    create_user(
        session, email="ada@example.org", name="Ada Byron", role=Role.ADMIN, password=PASSWORD
    )
    consultant = create_user(
        session,
        email="cy@example.org",
        name="Cy Young",
        role=Role.CONSULTANT,
        organization_ids=[organization.id],
        password=PASSWORD,
    )
    key = create_key(session, Role.PARTNER, [organization.id], "Acme Analytics").key
    return str(key.id), str(consultant.id)


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A real uvicorn on a fresh SQLite database with an admin, a consultant, an
    organization and a partner key (once the browser is there)."""
    with served_console(tmp_path_factory.mktemp("admin-browser"), seed=_seed) as served:
        yield Site(served.url, *served.seeded)


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser tab, signed in as the admin; script errors fail the test (a 4xx page
    the test asked for, or the favicon's 404, is no error)."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, site.url, "ada@example.org", PASSWORD)
    yield page
    context.close()
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


def test_every_admin_page_passes_axe(tab: Any, site: Site) -> None:
    for path, name in [
        ("/console/admin", "admin"),
        ("/console/admin/users/new", "admin-user-new"),
        (f"/console/admin/users/{site.user_id}", "admin-user"),
        ("/console/admin/keys/new", "admin-key-new"),
        (f"/console/admin/keys/{site.key_id}", "admin-key"),
        ("/console/admin/audit", "admin-audit"),
    ]:
        response = tab.goto(f"{site.url}{path}")
        assert response.status == 200, path
        shot_and_scan(tab, name)

    # The pages as they answer a refusal: errors summarised and next to each field.
    tab.goto(f"{site.url}/console/admin/users/new")
    tab.fill("#email", "not an address")
    tab.click("button.button-primary")
    assert tab.locator("#email-error").is_visible()
    shot_and_scan(tab, "admin-user-new-refused")
    tab.goto(f"{site.url}/console/admin/audit?outcome=maybe")
    assert tab.locator("#outcome-error").is_visible()
    shot_and_scan(tab, "admin-audit-refused")

    # The page that shows a new key once.
    tab.goto(f"{site.url}/console/admin/keys/new")
    tab.check("#role-consultant")
    tab.fill("#name", "Field team")
    tab.click("button.button-primary")
    assert tab.locator("#secret").inner_text().startswith("smm_")
    shot_and_scan(tab, "admin-secret")


def test_an_admin_adds_a_user_with_the_keyboard_only(
    tab: Any, site: Site, browser: Any, tmp_path: Path
) -> None:
    tab.goto(f"{site.url}/console/admin")
    tab_to(tab, "a[href='/console/admin/users/new']", limit=40)
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{site.url}/console/admin/users/new")

    tab_to(tab, "#email", limit=40)
    tab.keyboard.type("bo@example.org")
    tab.keyboard.press("Tab")
    tab.keyboard.type("Bo Diddley")
    tab.keyboard.press("Tab")  # into the role group, on its checked choice (consultant)
    assert tab.evaluate("document.activeElement.id") == "role-consultant"
    tab_to(tab, "input[name=organizations]", limit=40)
    tab.keyboard.press("Space")
    tab_to(tab, "button[type=submit].button-primary", limit=40)
    tab.keyboard.press("Enter")

    tab.wait_for_selector("#secret")
    assert "User added" in tab.inner_text("h1")
    password = tab.inner_text("#secret").strip()
    assert len(password) >= 12

    # The new user signs in with it, and works on the organization ticked.
    other = browser.new_context()
    page = other.new_page()
    sign_in(page, site.url, "bo@example.org", password)
    assert "Lakeside Community Hospital" in page.inner_text("main")
    other.close()
