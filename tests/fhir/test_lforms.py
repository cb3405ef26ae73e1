"""The exported Questionnaire rendered by LHC-Forms in a real browser, answered, and posted.

LHC-Forms is vendored from its npm package (tests/fhir/lforms/README.md); the page loads it
with every network request refused. The browser is Debian's chromium, as in the web tests:
skipped when missing, required with SMM_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

LFORMS = Path(__file__).parent / "lforms"
QUESTIONNAIRE = "/fhir/r4/Questionnaire/hospital-social-media/_history/1"


@pytest.fixture
def render(browser):
    """Render a Questionnaire with LHC-Forms' defaults; yields a function returning the page."""
    pages = []

    def show(questionnaire: dict[str, Any]) -> Any:
        page = browser.new_page()
        pages.append(page)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/*", lambda route: route.abort())  # nothing from the network
        page.set_content("<html lang='en'><body><div id='form'></div></body></html>")
        page.add_style_tag(path=str(LFORMS / "styles.css"))
        for script in ("zone.min.js", "lhc-forms.js", "fhir/R4/lformsFHIR.min.js"):
            page.add_script_tag(path=str(LFORMS / script))
        page.wait_for_function("window.LForms && window.LForms.Util", timeout=30_000)
        page.evaluate("q => LForms.Util.addFormToPage(q, 'form', {})", questionnaire)
        page.wait_for_selector("lhc-item", timeout=30_000)
        assert errors == []
        return page

    yield show
    for page in pages:
        page.close()


def test_lhc_forms_shows_labels_without_scores_with_radio_buttons_and_check_boxes(
    client, admin_headers, render
):
    shown = render(client.get(QUESTIONNAIRE, headers=admin_headers).json())
    weighted = render(client.get(f"{QUESTIONNAIRE}?weights=true", headers=admin_headers).json())

    text = shown.inner_text("#form")
    assert "Facebook" in text
    assert re.search(r" - \d+(\.\d+)?\n", text) is None  # never "Facebook - 25"
    assert "Facebook - 25" in weighted.inner_text("#form")  # why weights are left out
    single = shown.locator("lhc-item", has=shown.get_by_text("We have no official accounts."))
    assert single.locator("input[type=radio]").count() >= 4
    platforms = shown.locator("input[type=checkbox]")
    assert platforms.count() >= 9
    assert shown.locator("lhc-autocomplete").count() == 0  # no drop-downs


def test_a_response_lhc_forms_produces_is_stored_with_the_answers_given(
    client, admin_headers, make_organization, render
):
    organization = make_organization()
    page = render(client.get(QUESTIONNAIRE, headers=admin_headers).json())
    for label in (
        "We have official accounts on our main platforms, clearly branded as the hospital.",
        "Facebook",
        "Instagram",
    ):
        page.get_by_text(label, exact=True).click()

    response = page.evaluate("() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4')")
    # LHC-Forms knows nothing of the subject; a partner's app names the organization.
    response |= {"subject": {"reference": f"Organization/{organization.id}"}}
    response["status"] = "in-progress"
    posted = client.post("/fhir/r4/QuestionnaireResponse", json=response, headers=admin_headers)

    assert posted.status_code == 201, posted.text
    stored = client.get(f"/v1/assessments/{uuid.UUID(posted.json()['id'])}", headers=admin_headers)
    answers = {a["question_id"]: a.get("value") for a in stored.json()["answers"]}
    assert answers == {
        "pr_official_accounts": "main_platforms",
        "pr_platforms": ["facebook", "instagram"],
    }
