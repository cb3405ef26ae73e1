"""The assessment, compare and report-batch pages in a real browser, against a live server.

Debian's chromium through Playwright (never downloaded; skipped, saying why, where it is
missing). The server renders report jobs itself (``run_report_jobs``), so a batch queued
in the browser finishes, and its PDF downloads, as a consultant would see it. Renders
take seconds: the batch renders two reports, and the assessment page's PDF is then the
same report from the cache.
"""

from __future__ import annotations

import uuid
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
from tests.console.browsing import served_console, shot_and_scan, sign_in, tab_to
from tests.console.conftest import PASSWORD

# One chromium at a time, on one xdist worker (as the other browser modules).
pytestmark = pytest.mark.xdist_group("browser")


@dataclass(frozen=True)
class Live:
    url: str
    email: str
    lakeside: str  # organization ids
    hillcrest: str
    first: str  # Lakeside's two submitted assessments, oldest first
    second: str


def _organization(client: httpx.Client, name: str) -> str:
    response = client.post(
        "/v1/organizations",
        json={"name": name, "type": "community_hospital", "licensed_beds": 60, "state": "MN"},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _submit(client: httpx.Client, organization: str, name: str) -> str:
    response = client.post(
        "/v1/assessments", json={**example(name), "organization_id": organization}
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _admin_key(session: Session, *_: Any) -> str:
    return create_key(session, Role.ADMIN, []).token


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A live server rendering report jobs, two client organizations and a consultant."""
    where = tmp_path_factory.mktemp("console-served")
    with served_console(where, run_report_jobs=True, seed=_admin_key) as served:
        headers = {"Authorization": f"Bearer {served.seeded}"}
        with httpx.Client(base_url=served.url, headers=headers, timeout=30) as api:
            lakeside = _organization(api, "Lakeside Community Hospital")
            hillcrest = _organization(api, "Hillcrest Regional")
            first = _submit(api, lakeside, "community-hospital")
            second = _submit(api, lakeside, "academic-medical-center")
            _submit(api, hillcrest, "community-hospital")
        email = "dana@example.org"
        with served.session() as session:
            create_user(
                session,
                email=email,
                name="Dana Whitfield",
                role=Role.CONSULTANT,
                organization_ids=[uuid.UUID(lakeside), uuid.UUID(hillcrest)],
                password=PASSWORD,
            )
        yield Live(served.url, email, lakeside, hillcrest, first, second)


def _signed_in(browser: Any, live: Live, next_path: str) -> Any:
    """A new tab, signed in on the way to ``next_path``, and on it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in(page, live.url, live.email, PASSWORD, next_path=next_path)
    return page


def test_a_batch_queued_from_the_keyboard_finishes_and_its_pdfs_download(
    browser: Any, live: Live
) -> None:
    page = _signed_in(browser, live, "/console/reports")
    shot_and_scan(page, "reports")

    # Keyboard only: tick both organizations, then submit the form.
    tab_to(page, f"#organization-{live.lakeside}", limit=60)
    page.keyboard.press("Space")
    tab_to(page, f"#organization-{live.hillcrest}", limit=60)
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/reports?latest=2**")
    assert "2 reports queued." in page.content()
    shot_and_scan(page, "reports with a batch in progress")

    # console-progress.js polls, and reloads once both are done.
    links = page.locator("a:has-text('Download PDF')")
    links.nth(1).wait_for(timeout=120_000)
    assert links.count() == 2
    assert "2 of 2 done." in page.content()
    with page.expect_download() as download_info:
        links.first.click()
    download = download_info.value
    assert download.suggested_filename.startswith("roadmap-")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    shot_and_scan(page, "reports, batch done")


def test_the_assessment_page_downloads_its_pdf_and_compares(browser: Any, live: Live) -> None:
    page = _signed_in(browser, live, f"/console/assessments/{live.second}")
    assert "Lakeside Community Hospital" in page.content()
    shot_and_scan(page, "assessment")

    with page.expect_download() as download_info:
        page.click("text=Download the roadmap report (PDF)")
    download = download_info.value
    assert download.suggested_filename == f"roadmap-{live.second}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    page.click("button:has-text('Compare')")  # nothing chosen: the form comes back
    assert page.locator("#error-summary").is_visible()
    shot_and_scan(page, "assessment, compare refused")
    page.select_option("#compare-other", live.first)
    page.click("button:has-text('Compare')")
    page.wait_for_url(f"**/compare?other={live.first}")
    assert "Change per dimension" in page.content()
    shot_and_scan(page, "compare")
