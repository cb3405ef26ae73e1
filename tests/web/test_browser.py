"""The form in a real browser: Debian's chromium, driven by Playwright, against `smm serve`.

The browser is never downloaded: these tests use /usr/bin/chromium and skip, saying why,
when it or Playwright is missing. With SMM_REQUIRE_BROWSER=1 (CI) they fail instead.
Screenshots of every page go to test-artifacts/screenshots/; with SMM_UPDATE_DOCS=1 the
form and results screenshots are also written to docs/ for the README.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import PROJECT_ROOT
from tests.support.browser import REQUIRED, missing_browser
from tests.support.cli import run_smm
from tests.support.servers import free_port, start_server, stop_server, wait_until_ready
from tests.web.conftest import DEFINITION, EXAMPLE_ANSWERS, input_id

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DOCS = PROJECT_ROOT / "docs"


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path
    admin_key: str

    def invitation(self) -> tuple[str, str]:
        """A new organization and its link to version 1 (the pages these tests click through)."""
        response = httpx.post(
            f"{self.url}/v1/organizations",
            headers={"Authorization": f"Bearer {self.admin_key}"},
            json={
                "name": "Lakeside Community Hospital",
                "type": "community_hospital",
                "licensed_beds": 60,
                "state": "MN",
            },
        )
        response.raise_for_status()
        organization = response.json()["id"]
        invited = httpx.post(
            f"{self.url}/v1/organizations/{organization}/invitations",
            headers={"Authorization": f"Bearer {self.admin_key}"},
            json={"questionnaire": {"id": "hospital-social-media", "version": 1}},
        )
        invited.raise_for_status()
        return organization, invited.json()["url"]


def _expect(locator: Any) -> Any:
    """Playwright's retrying assertions (imported late: the module is skipped without it)."""
    from playwright.sync_api import expect

    return expect(locator)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`smm serve` on a temporary SQLite database and a free port."""
    if missing_browser() and not REQUIRED:
        pytest.skip(str(missing_browser()))
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "SMM_DATABASE_URL": f"sqlite:///{folder / 'smm.db'}",
        "SMM_SECRET_KEY_FILE": str(folder / "secret_key"),
        "SMM_PORT": str(port),
        "SMM_WEB_RATE_BURST": "10000",
        "SMM_WEB_RATE_LIMIT": "10000",
    }
    env.pop("SMM_SECRET_KEY", None)
    log = folder / "serve.log"
    process = start_server(env, log, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{url}/healthz", process=process, log=log)
        key = run_smm("keys", "create", "--role", "admin", env=env).stdout.strip().splitlines()[-1]
        yield Server(url, env, log, key)
    finally:
        stop_server(process, seconds=20)


def _shot(page: Any, name: str, docs_name: str | None = None) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs_name and os.environ.get("SMM_UPDATE_DOCS") == "1":
        page.screenshot(path=str(DOCS / docs_name))  # the first screenful, for the README


def _scan(page: Any, name: str, *, every: bool = False) -> None:
    """No serious or critical accessibility violations (``every``: none at all) on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if every or v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


def _answer(page: Any, question_ids: list[str], answers: dict[str, Any]) -> None:
    for qid in question_ids:
        if qid not in answers:
            continue
        value = answers[qid]
        question = DEFINITION.question(qid)
        assert question is not None
        if question.type in ("number", "text"):
            page.fill(f"#{input_id(qid, value)}", str(value))
        elif isinstance(value, list):
            for choice in value:
                page.check(f"#{input_id(qid, choice)}")
        else:
            page.check(f"#{input_id(qid, value)}")


def _section_questions(dimension_id: str) -> list[str]:
    return [q.id for q in DEFINITION.questions_in(dimension_id)]


def _walk(server: Server, browser: Any, *, javascript: bool, tag: str) -> None:
    """From the link to the PDF, with an error, a follow-up and a resume in a fresh context.

    axe runs in the page's JavaScript, so it scans the pages of the scripted walk only.
    """

    def _axe(page: Any, name: str) -> None:
        if javascript:
            _scan(page, name)

    _, link = server.invitation()
    options = {"java_script_enabled": javascript, "accept_downloads": True}
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.goto(link)
    assert page.url == f"{server.url}/form"
    _axe(page, "welcome")
    _shot(page, f"{tag}-01-welcome")
    page.click("text=Start the assessment")
    assert page.url.endswith("/form/profile")
    page.fill("#licensed-beds", "sixty")
    page.click("text=Save and continue")
    _expect(page.locator("#error-summary")).to_be_visible()
    if javascript:
        _expect(page.locator("#error-summary")).to_be_focused()
    _axe(page, "profile with an error")
    _shot(page, f"{tag}-02-profile-error")
    page.fill("#licensed-beds", "60")
    page.click("text=Save and continue")
    assert page.url.endswith("/form/section/presence")

    # A follow-up: with the script it appears at once, without it after saving.
    follow_up = page.locator("#q-pr_platforms_other")
    assert follow_up.is_hidden()
    page.check(f"#{input_id('pr_platforms', 'other')}")
    if javascript:
        assert follow_up.is_visible()
    else:
        page.click("text=Save and continue")
        assert "followup=true" in page.url
        assert follow_up.is_visible()
        assert page.locator("text=A follow-up question has appeared").is_visible()
    page.fill("#q-pr_platforms_other-input", "Threads, for nurse recruiting.")
    answers = {**EXAMPLE_ANSWERS, "pr_posts_per_week": 2000}
    _answer(page, _section_questions("presence"), answers)
    page.click("text=Save and continue")
    assert page.url.endswith("/form/section/presence")  # 2000 posts a week is refused
    error = page.locator("#q-pr_posts_per_week-error")
    assert "outside 0 to 100" in error.inner_text()
    assert page.get_attribute("#q-pr_posts_per_week-input", "aria-invalid") == "true"
    _axe(page, "section with an error")
    _shot(page, f"{tag}-03-section-error", "web-form.png" if javascript else None)
    page.click("#error-summary a")
    assert page.evaluate("document.activeElement.id") == "q-pr_posts_per_week-input"
    page.fill("#q-pr_posts_per_week-input", str(EXAMPLE_ANSWERS["pr_posts_per_week"]))
    page.click("text=Save and continue")
    assert page.url.endswith("/form/section/consistency")
    _axe(page, "consistency")
    _answer(page, _section_questions("consistency")[:5], EXAMPLE_ANSWERS)
    page.click("text=Save and finish later")
    assert page.url.endswith("/form/saved")
    _axe(page, "saved")
    _shot(page, f"{tag}-04-saved")
    context.close()

    # Days later, in another browser: the same link, the same answers.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.goto(link)
    page.click("text=Continue where you left off")
    assert page.url.endswith("/form/section/consistency")
    assert page.is_checked(f"#{input_id('co_strategy', EXAMPLE_ANSWERS['co_strategy'])}")
    _answer(page, _section_questions("consistency"), EXAMPLE_ANSWERS)
    page.click("text=Save and continue")
    if not javascript and "followup=true" in page.url:
        _answer(page, _section_questions("consistency"), EXAMPLE_ANSWERS)
        page.click("text=Save and continue")
    page.wait_for_url("**/form/section/security*")
    _answer(page, _section_questions("security"), EXAMPLE_ANSWERS)
    page.click("text=Save and continue")
    if "followup=true" in page.url:
        _answer(page, _section_questions("security"), EXAMPLE_ANSWERS)
        page.click("text=Save and continue")
    assert page.url.endswith("/form/review")
    assert page.locator("text=Every required question is answered.").count() == 3
    _axe(page, "review")
    _shot(page, f"{tag}-05-review")
    page.click("text=Submit the assessment")
    assert page.url.endswith("/form/results")
    assert page.locator("svg.radar-chart").is_visible()
    assert page.locator("text=Your first steps").is_visible()
    # The PDF was queued by the submit: first "preparing" (reloading itself without the
    # script, asking the server with it), then the link, with no click in between.
    status = page.locator("#report-status")
    if status.get_attribute("data-state") == "preparing":  # not yet rendered: nearly always
        message = page.locator("#report-status .report-message")
        _expect(message).to_contain_text("Preparing your PDF")
        assert page.locator(".report-link").first.is_hidden()
        _axe(page, "results, PDF being prepared")
        _shot(page, f"{tag}-06-results-preparing")
    _expect(status).to_have_attribute("data-state", "ready", timeout=120_000)
    _expect(page.locator(".report-link").first).to_be_visible()
    if javascript:
        assert page.locator("#report-status [role=status]").inner_text() == "Your PDF is ready."
    _axe(page, "results")
    _shot(page, f"{tag}-06-results", "web-results.png" if javascript else None)
    with page.expect_download() as download:
        page.click("text=Download your roadmap (PDF) >> nth=0")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    page.set_viewport_size({"width": 360, "height": 800})
    _shot(page, f"{tag}-07-results-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()


def _serve(folder: Path, **extra: str) -> tuple[Any, Server]:
    port = free_port()
    env = {
        **os.environ,
        "SMM_DATABASE_URL": f"sqlite:///{folder / 'smm.db'}",
        "SMM_SECRET_KEY_FILE": str(folder / "secret_key"),
        "SMM_PORT": str(port),
        "SMM_WEB_RATE_BURST": "10000",
        "SMM_WEB_RATE_LIMIT": "10000",
        **extra,
    }
    env.pop("SMM_SECRET_KEY", None)
    log = folder / "serve.log"
    process = start_server(env, log, port)
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(f"{url}/healthz", process=process, log=log)
    key = run_smm("keys", "create", "--role", "admin", env=env).stdout.strip().splitlines()[-1]
    return process, Server(url, env, log, key)


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`smm serve` whose every render runs out of time, so every pre-render fails."""
    if missing_browser() and not REQUIRED:
        pytest.skip(str(missing_browser()))
    process = None
    try:
        folder = tmp_path_factory.mktemp("failing")
        process, served = _serve(folder, SMM_RENDER_TIMEOUT_SECONDS="0.001")
        yield served
    finally:
        if process is not None:
            stop_server(process, seconds=20)


def _submitted(server: Server, page: Any) -> None:
    """An invitation opened in ``page``, answered through the API, submitted in the form."""
    organization, link = server.invitation()
    page.goto(link)
    page.click("text=Start the assessment")
    api = {"Authorization": f"Bearer {server.admin_key}"}
    drafts = httpx.get(
        f"{server.url}/v1/assessments",
        params={"organization_id": organization, "status": "draft"},
        headers=api,
    ).json()["items"]
    answers = [
        {"question_id": qid, "na": True}
        if value == "__na__"
        else {"question_id": qid, "value": value}
        for qid, value in EXAMPLE_ANSWERS.items()
    ]
    httpx.patch(
        f"{server.url}/v1/assessments/{drafts[0]['id']}", json={"answers": answers}, headers=api
    ).raise_for_status()
    page.goto(f"{server.url}/form/review")
    page.click("text=Submit the assessment")
    page.wait_for_url("**/form/results")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_when_the_pdf_could_not_be_prepared_the_results_page_says_what_to_do(
    failing_server: Server, browser: Any, javascript: bool
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    _submitted(failing_server, page)

    status = page.locator("#report-status")
    _expect(status).to_have_attribute("data-state", "failed", timeout=60_000)
    message = page.locator("#report-status [role=status]")
    _expect(message).to_contain_text("could not be prepared in advance")
    _expect(message).to_contain_text("try again later or contact the Center team")
    _expect(page.locator(".report-link").first).to_be_visible()
    if javascript:
        _scan(page, "results, PDF failed", every=True)
    _shot(page, f"{'js' if javascript else 'nojs'}-results-failed")
    context.close()


def test_from_the_link_to_the_pdf_with_javascript(server: Server, browser: Any) -> None:
    _walk(server, browser, javascript=True, tag="js")


def test_from_the_link_to_the_pdf_without_javascript(server: Server, browser: Any) -> None:
    _walk(server, browser, javascript=False, tag="nojs")


def test_unanswered_questions_are_flagged_then_reviewed_and_changed(
    server: Server, browser: Any
) -> None:
    """Save and continue with required questions left, move on, review, change one."""
    _, link = server.invitation()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link)
    page.click("text=Start the assessment")
    page.click("text=Save and continue")  # the profile as the organization has it
    assert page.url.endswith("/form/section/presence")
    official = EXAMPLE_ANSWERS["pr_official_accounts"]
    page.check(f"#{input_id('pr_official_accounts', official)}")
    page.fill("#q-pr_official_accounts-comment", "Two more accounts are run by the foundation.")
    page.click("text=Save and continue")

    page.wait_for_url("**unanswered=true**")
    summary = page.locator("#error-summary")
    _expect(summary).to_be_visible()  # waits for the page the redirect lands on
    _expect(summary).to_contain_text("not answered yet")
    _expect(summary).to_be_focused()
    assert page.is_checked(f"#{input_id('pr_official_accounts', official)}")  # saved, shown
    _scan(page, "section with unanswered questions", every=True)
    _shot(page, "unanswered-01-flagged")
    page.click("#error-summary a >> nth=0")
    assert page.evaluate("document.activeElement.id") == "q-pr_platforms-0"
    page.click("text=without answering")
    assert page.url.endswith("/form/section/consistency")

    page.goto(server.url + "/form/review")
    _scan(page, "review with answers", every=True)
    _shot(page, "unanswered-02-review")
    official_row = page.locator("#review-q-pr_official_accounts")
    question = DEFINITION.question("pr_official_accounts")
    label = {o.value: o.label for o in question.options}[official]  # type: ignore[union-attr]
    assert label in official_row.inner_text()
    assert "Comment: Two more accounts are run by the foundation." in official_row.inner_text()
    platforms_row = page.locator("#review-q-pr_platforms")
    assert "Not answered (required)" in platforms_row.inner_text()

    platforms_row.locator("a").click()
    assert page.url.endswith("/form/section/presence#q-pr_platforms-0")
    page.check(f"#{input_id('pr_platforms', 'facebook')}")
    page.click("text=Save and continue")
    assert "unanswered=true" in page.url  # the rest of the page is still to answer
    page.goto(server.url + "/form/review")
    platforms_row = page.locator("#review-q-pr_platforms")
    assert "Facebook" in platforms_row.inner_text()
    assert "Not answered" not in platforms_row.inner_text()
    assert "Change" in platforms_row.locator("a").inner_text()
    context.close()


def test_the_pages_fit_a_360_pixel_screen(server: Server, browser: Any) -> None:
    _, link = server.invitation()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(link)
    page.click("text=Start the assessment")
    for path in (
        "/form/profile",
        "/form/section/presence",
        "/form/section/security",
        "/form/review",
    ):
        page.goto(server.url + path)
        name = path.strip("/").replace("/", "-")
        _shot(page, f"360-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide"
    context.close()


def test_a_page_completed_with_the_keyboard_alone(server: Server, browser: Any) -> None:
    _, link = server.invitation()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Start the assessment"
    page.keyboard.press("Enter")
    page.wait_for_url("**/form/profile")
    # Skip link, then the first radio of the organization type; arrows choose within it.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "type"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "licensed-beds"
    page.keyboard.press("Control+A")
    page.keyboard.type("25")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "staff-hours"
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "next"
    page.keyboard.press("Enter")
    page.wait_for_url("**/form/section/presence")
    page.goto(server.url + "/form/profile")
    assert page.input_value("#licensed-beds") == "25"
    assert page.input_value("#staff-hours") == "30"
    assert page.is_checked("#type-1")  # critical access hospital, the second type
    context.close()


def test_the_server_log_never_shows_an_invitation_token(server: Server, browser: Any) -> None:
    _, link = server.invitation()
    token = link.rsplit("/", 1)[-1]
    httpx.get(link)
    httpx.get(link[:-2] + "xx")
    time.sleep(0.5)
    log = server.log.read_text()
    assert "/i/[redacted]" in log
    assert token not in log
    assert token[:20] not in log
