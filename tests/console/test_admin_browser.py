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

from app.accounts.service import create_user
from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.main import create_app
from app.migrate import upgrade
from app.organizations.models import Organization
from tests.support.browser import REQUIRED, launched_chromium, missing_browser
from tests.support.servers import served_in_thread

# Real browsers share the machine badly: these run in the browser tests' one worker.
pytestmark = pytest.mark.xdist_group("browser")

PASSWORD = "correct horse battery staple"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


@dataclass
class Site:
    url: str
    key_id: str
    user_id: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A real uvicorn on a fresh SQLite database with an admin, a consultant, an
    organization and a partner key."""
    if missing_browser() and not REQUIRED:
        pytest.skip(str(missing_browser()))
    where = tmp_path_factory.mktemp("admin-browser")
    url = f"sqlite:///{where / 'smm.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
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
        ids = str(key.id), str(consultant.id)
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
            yield Site(base, *ids)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def tab(browser: Any, site: Site) -> Iterator[Any]:
    """A fresh browser tab, signed in as the admin; script errors fail the test (a 4xx page
    the test asked for, or the favicon's 404, is no error)."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.url}/console/sign-in")
    page.fill("#email", "ada@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    yield page
    context.close()
    assert [e for e in errors if not e.startswith("Failed to load resource")] == []


def _scan(page: Any, name: str) -> None:
    """No serious or critical accessibility violations on the page; a screenshot of it."""
    from axe_playwright_python.sync_playwright import Axe

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)
    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


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
        _scan(tab, name)

    # The pages as they answer a refusal: errors summarised and next to each field.
    tab.goto(f"{site.url}/console/admin/users/new")
    tab.fill("#email", "not an address")
    tab.click("button.button-primary")
    assert tab.locator("#email-error").is_visible()
    _scan(tab, "admin-user-new-refused")
    tab.goto(f"{site.url}/console/admin/audit?outcome=maybe")
    assert tab.locator("#outcome-error").is_visible()
    _scan(tab, "admin-audit-refused")

    # The page that shows a new key once.
    tab.goto(f"{site.url}/console/admin/keys/new")
    tab.check("#role-consultant")
    tab.fill("#name", "Field team")
    tab.click("button.button-primary")
    assert tab.locator("#secret").inner_text().startswith("smm_")
    _scan(tab, "admin-secret")


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_an_admin_adds_a_user_with_the_keyboard_only(
    tab: Any, site: Site, browser: Any, tmp_path: Path
) -> None:
    tab.goto(f"{site.url}/console/admin")
    _tab_to(tab, "a[href='/console/admin/users/new']")
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{site.url}/console/admin/users/new")

    _tab_to(tab, "#email")
    tab.keyboard.type("bo@example.org")
    tab.keyboard.press("Tab")
    tab.keyboard.type("Bo Diddley")
    tab.keyboard.press("Tab")  # into the role group, on its checked choice (consultant)
    assert tab.evaluate("document.activeElement.id") == "role-consultant"
    _tab_to(tab, "input[name=organizations]")
    tab.keyboard.press("Space")
    _tab_to(tab, "button[type=submit].button-primary")
    tab.keyboard.press("Enter")

    tab.wait_for_selector("#secret")
    assert "User added" in tab.inner_text("h1")
    password = tab.inner_text("#secret").strip()
    assert len(password) >= 12

    # The new user signs in with it, and works on the organization ticked.
    other = browser.new_context()
    page = other.new_page()
    page.goto(f"{site.url}/console/sign-in")
    page.fill("#email", "bo@example.org")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    assert "Lakeside Community Hospital" in page.inner_text("main")
    other.close()
