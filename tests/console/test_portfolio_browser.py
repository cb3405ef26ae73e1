"""Signing in and the portfolio in a real browser: by keyboard alone, without JavaScript,
with axe on every page, and the screenshots the README shows.

Debian's chromium through Playwright (never downloaded), against a uvicorn serving the app
from a thread, on a SQLite database of the module's own with a small consultancy in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.accounts.service import create_user, principal_of
from app.auth.models import Role
from app.config import Settings
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.invitations.service import create_invitation
from app.organizations.schemas import OrganizationCreate
from app.organizations.service import create_organization
from app.questionnaire.registry import QuestionnaireRegistry
from tests.conftest import example
from tests.console.browsing import scan, served_console, shot, sign_in, tab_to
from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.xdist_group("browser")

EMAIL = "dana.whitfield@center.example.org"
# Clients, and the answers they gave last year and this year (None: not assessed yet).
CLIENTS = [
    (
        "Lakeside Community Hospital",
        "community_hospital",
        120,
        "community-hospital",
        "v2-community-hospital",
    ),
    (
        "Riverbend Critical Access Hospital",
        "critical_access_hospital",
        25,
        None,
        "v2-critical-access-hospital",
    ),
    (
        "St. Brigid Academic Medical Center",
        "academic_medical_center",
        640,
        "academic-medical-center",
        "v2-academic-medical-center",
    ),
    (
        "Hillcrest Regional Medical Center",
        "community_hospital",
        310,
        "v2-academic-medical-center",
        "v2-community-hospital",
    ),
    ("Northfield Children's Hospital", "childrens_hospital", 180, None, None),
]


@dataclass
class Live:
    url: str
    lakeside_id: str


def _seed(session: Session, settings: Settings, registry: QuestionnaireRegistry) -> str:
    """The consultant's clients, their assessments and invitations; Lakeside's id."""
    user = create_user(
        session, email=EMAIL, name="Dana Whitfield", role=Role.CONSULTANT, password=PASSWORD
    )
    dana = principal_of(session, user)
    ids = {}
    for name, kind, beds, last_year, this_year in CLIENTS:
        organization = create_organization(
            session,
            dana,
            OrganizationCreate(name=name, type=kind, licensed_beds=beds, state="MN"),
        )
        ids[name] = str(organization.id)
        for answers, when in (
            (last_year, datetime(2025, 11, 4, tzinfo=UTC)),
            (this_year, datetime(2026, 11, 18, tzinfo=UTC)),
        ):
            if answers is None:
                continue
            body = example(answers)
            made = create_assessment(
                session,
                registry,
                dana,
                organization_id=organization.id,
                questionnaire_id=body["questionnaire"]["id"],
                version=body["questionnaire"].get("version"),
                status="submitted",
                items=[AnswerIn.model_validate(a) for a in body["answers"]],
            )
            made.submitted_at = when
        if this_year is None:
            create_invitation(session, registry, dana, organization, key=settings.signing_key())
    return ids["Lakeside Community Hospital"]


@pytest.fixture(scope="module")
def live(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with served_console(tmp_path_factory.mktemp("portfolio"), seed=_seed) as served:
        yield Live(served.url, served.seeded)


def test_signing_in_and_using_the_portfolio_by_keyboard_alone(browser: Any, live: Live) -> None:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live.url}/console")
        assert "/console/sign-in" in page.url
        scan(page, "sign-in")
        tab_to(page, "#email")
        page.keyboard.type(EMAIL)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live.url}/console")
        assert page.locator("table.portfolio tbody tr").count() == len(CLIENTS)
        scan(page, "portfolio")
        shot(page, "portfolio", "console-portfolio.png")

        # Sort by security, by keyboard: the column header is a link.
        tab_to(page, "a.sort-link[href*='sort=security']")
        page.keyboard.press("Enter")
        page.wait_for_url("**sort=security**")
        header = page.locator("th[aria-sort]")
        assert "security" in header.inner_text()
        assert header.get_attribute("aria-sort") == "ascending"

        # Filter by name, by keyboard.
        tab_to(page, "#q")
        page.keyboard.type("lakeside")
        page.keyboard.press("Enter")
        page.wait_for_url("**q=lakeside**")
        assert page.locator("table.portfolio tbody tr").count() == 1

        # Open the client.
        tab_to(page, f"a[href='/console/organizations/{live.lakeside_id}']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live.url}/console/organizations/{live.lakeside_id}")
        scan(page, "organization")
        shot(page, "organization", "console-organization.png")

        page.goto(f"{live.url}/console/account")
        scan(page, "account")
    finally:
        context.close()


def test_without_javascript_sign_in_filter_and_sign_out(browser: Any, live: Live) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live.url}/console/sign-in")
        page.fill("#email", EMAIL)
        page.fill("#password", "not the password at all")
        page.click("button[type=submit]:has-text('Sign in')")
        assert "do not match" in page.content()
        sign_in(page, live.url, EMAIL, PASSWORD)
        page.select_option("#attention", "yes")
        page.click("text=Apply filters")
        page.wait_for_url("**attention=yes**")
        assert "Northfield Children" in page.content()
        assert "Never assessed" in page.content()
        page.click("button:has-text('Sign out')")
        page.wait_for_url("**/console/sign-in?signed_out=1")
        page.goto(f"{live.url}/console")
        assert "/console/sign-in" in page.url
    finally:
        context.close()
