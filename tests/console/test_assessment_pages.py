"""The console's assessment, compare, report-batch and export pages (TestClient)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.config import Settings
from app.intake.models import Assessment
from app.jobs.models import ReportJob
from app.organizations.models import Organization
from app.questionnaire.models import QuestionnaireVersion
from tests.conftest import example
from tests.console.conftest import Person, csrf_of, post_form
from tests.support.settings import SIGN_IN_UNLIMITED, settings_for

MakeOrg = Callable[..., Organization]
MakeUser = Callable[..., Person]
SignIn = Callable[[Person], TestClient]
ConsultantOf = Callable[..., TestClient]


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    """The console's settings, with a report budget of two at once (a test spends it)."""
    return settings_for(tmp_path, **SIGN_IN_UNLIMITED, report_rate_limit=1, report_rate_burst=2)


@pytest.fixture
def post_assessment(client: TestClient, admin_headers: dict[str, str]) -> Callable[..., str]:
    """Post an example's answers for an organization through the API; its id."""

    def post(
        organization: Organization,
        name: str = "community-hospital",
        *,
        status: str = "submitted",
        answers: int | None = None,
    ) -> str:
        body = example(name)
        response = client.post(
            "/v1/assessments",
            json={
                **body,
                "answers": body["answers"][:answers],
                "status": status,
                "organization_id": str(organization.id),
            },
            headers=admin_headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    return post


def _post_batch(browser: TestClient, organization_id: str | list[str]) -> Response:
    """Post the reports page's batch form, not following its redirect."""
    return post_form(
        browser,
        "/console/reports",
        {"organization_id": organization_id},
        form="/console/reports",
        follow_redirects=False,
    )


def _jobs(db: Session) -> int:
    """How many report jobs are stored."""
    return db.scalars(select(func.count()).select_from(ReportJob)).one()


def _context(response: Any) -> dict[str, Any]:
    context: dict[str, Any] = response.context
    return context


# -- the assessment page ------------------------------------------------------------------


def test_a_submitted_assessment_shows_levels_why_gates_answers_and_roadmap(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
) -> None:
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment_id = post_assessment(org)
    browser = consultant_of(org)

    response = browser.get(f"/console/assessments/{assessment_id}")

    assert response.status_code == 200, response.text
    assert response.template.name == "console/assessment.html"  # type: ignore[attr-defined]
    context = _context(response)
    dimensions = context["dimensions"]
    assert [d.dimension_id for d in dimensions] == ["presence", "consistency", "security"]
    stored = context["scores"]["dimensions"]
    assert [d.level for d in dimensions] == [d["level"] for d in stored]
    assert all(d.why == s["summary"] for d, s in zip(dimensions, stored, strict=True))
    text = response.text
    assert "Lakeside Community Hospital" in text
    assert escape(dimensions[0].why) in text  # the engine's explanation
    gates = [g for d in dimensions for g in d.gates]
    assert gates, "the community hospital example fails some gates"
    assert escape(gates[0].needs) in text
    assert escape(gates[0].today) in text
    # The answers in words: the option's label, never its code.
    assert "main_platforms" not in text
    assert escape(context["sections"][0].rows[0].answer) in text
    roadmap = context["roadmap"]
    assert roadmap is not None and roadmap.phases  # noqa: PT018
    assert escape(roadmap.phases[0].actions[0].title) in text
    assert roadmap.year1 in text
    assert f'href="/console/assessments/{assessment_id}/report.pdf"' in text
    assert f"/console/exports/assessments.csv?organization_id={org.id}" in text


def test_a_draft_shows_its_answers_so_far_and_which_sections_are_incomplete(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
) -> None:
    org = make_organization()
    assessment_id = post_assessment(org, status="draft", answers=3)
    browser = consultant_of(org)

    response = browser.get(f"/console/assessments/{assessment_id}")

    assert response.status_code == 200, response.text
    context = _context(response)
    assert context["submitted"] is False
    assert context["roadmap"] is None
    sections = context["sections"]
    assert sum(s.answered for s in sections) == 3
    assert all(not s.complete for s in sections)
    assert "Incomplete:" in response.text
    assert "draft assessment" in response.text
    assert "report.pdf" not in response.text


def test_an_assessment_outside_the_users_organizations_is_not_found(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
    db: Session,
) -> None:
    mine, theirs = make_organization("Mine"), make_organization("Theirs")
    other_id = post_assessment(theirs)
    browser = consultant_of(mine)

    for path in ("", "/report.pdf", f"/compare?other={other_id}"):
        response = browser.get(f"/console/assessments/{other_id}{path}")
        assert response.status_code == 404, path
        assert "Theirs" not in response.text
    assert browser.get("/console/assessments/not-an-id").status_code == 404
    denied = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert denied and all(e.organization_id == theirs.id for e in denied)  # noqa: PT018


def test_a_stranger_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get(f"/console/assessments/{uuid.uuid4()}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=")


def test_the_pdf_is_the_api_report_and_its_render_spends_the_users_budget(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
    admin_headers: dict[str, str],
) -> None:
    org = make_organization()
    first, second = post_assessment(org), post_assessment(org, "academic-medical-center")
    browser = consultant_of(org)

    response = browser.get(f"/console/assessments/{first}/report.pdf")

    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="roadmap-{first}.pdf"'
    assert (
        "Lakeside Community Hospital"
        in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    )
    # The API serves the very bytes: one report, one cache, whichever door asked.
    api = browser.get(f"/v1/assessments/{first}/report.pdf", headers=admin_headers)
    assert api.content == response.content
    # A batch spends the second of the user's two; the next render is refused, unrendered.
    queued = _post_batch(browser, [str(org.id)])
    assert queued.status_code == 303, queued.text
    refused = browser.get(f"/console/assessments/{second}/report.pdf")
    assert refused.status_code == 429
    assert "too many report renders" in refused.text


# -- comparing -------------------------------------------------------------------------------


def test_two_assessments_compare_per_dimension_and_question(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
) -> None:
    org = make_organization()
    before = post_assessment(org)
    after = post_assessment(org, "academic-medical-center")
    browser = consultant_of(org)

    picker = browser.get(f"/console/assessments/{before}")
    assert [str(e.assessment_id) for e in _context(picker)["others"]] == [after]
    assert f'<option value="{after}"' in picker.text

    response = browser.get(f"/console/assessments/{before}/compare", params={"other": after})

    assert response.status_code == 200, response.text
    assert response.template.name == "console/compare.html"  # type: ignore[attr-defined]
    comparison = _context(response)["comparison"]
    assert str(comparison.before.assessment_id) == before
    assert str(comparison.after.assessment_id) == after
    assert "Change per dimension" in response.text
    assert escape(comparison.questions[0].prompt) in response.text


def test_assessments_of_different_questionnaires_do_not_compare(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
    db: Session,
) -> None:
    org = make_organization()
    first, second = post_assessment(org), post_assessment(org)
    # Another questionnaire, as stored (the registry serves only one): the comparison
    # refuses before it reads either definition.
    served = db.get_one(QuestionnaireVersion, ("hospital-social-media", 1))
    db.add(
        QuestionnaireVersion(
            questionnaire_id="another-questionnaire",
            version=1,
            content_hash=served.content_hash,
            title="Another questionnaire",
            definition=served.definition,
        )
    )
    db.flush()
    db.get_one(Assessment, uuid.UUID(second)).questionnaire_id = "another-questionnaire"
    db.commit()
    browser = consultant_of(org)

    response = browser.get(f"/console/assessments/{first}/compare", params={"other": second})

    assert response.status_code == 409
    assert "These two do not compare" in response.text
    assert "another-questionnaire" in response.text


def test_comparing_without_choosing_shows_the_form_again_with_the_error(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
) -> None:
    org = make_organization()
    first = post_assessment(org)
    post_assessment(org)
    browser = consultant_of(org)

    for other in ("", "nonsense", first):
        response = browser.get(f"/console/assessments/{first}/compare", params={"other": other})
        assert response.status_code == 422, other
        assert 'class="error-summary"' in response.text
        assert 'aria-invalid="true"' in response.text


# -- report batches ------------------------------------------------------------------------


def test_the_reports_page_offers_only_the_users_organizations(
    make_organization: MakeOrg, consultant_of: ConsultantOf
) -> None:
    mine = make_organization("Mine")
    make_organization("Theirs")
    browser = consultant_of(mine)

    response = browser.get("/console/reports")

    assert response.status_code == 200
    assert f'value="{mine.id}"' in response.text
    assert "Theirs" not in response.text
    assert "/console/exports/assessments.xlsx" in response.text


def test_a_batch_queues_a_job_per_organization_and_the_trail_names_the_user(
    make_organization: MakeOrg,
    make_user: MakeUser,
    signed_in_as: SignIn,
    post_assessment: Callable[..., str],
    db: Session,
) -> None:
    first, second, empty = (
        make_organization("First"),
        make_organization("Second"),
        make_organization("Empty"),
    )
    post_assessment(first)
    post_assessment(second)
    person = make_user("consultant", [first.id, second.id, empty.id])
    browser = signed_in_as(person)

    response = _post_batch(browser, [str(first.id), str(second.id), str(empty.id)])

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/console/reports?latest=2&queued=2&skipped=1")
    jobs = db.scalars(select(ReportJob)).all()
    assert {j.organization_id for j in jobs} == {first.id, second.id}
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report_batch.create")).one()
    assert event.user_id == person.user.id
    assert event.outcome == "success"
    assert event.detail["queued"] == 2

    page = browser.get(response.headers["location"])
    assert page.status_code == 200
    assert "2 reports queued." in page.text
    assert "1 organization was skipped" in page.text
    assert "0 of 2 done" in page.text
    assert "Refresh" in page.text
    assert browser.get("/console/reports/progress.json?latest=2").json() == {
        "done": 0,
        "failed": 0,
        "total": 2,
        "finished": False,
    }
    # Not rendered yet: its PDF is a conflict, as in the API.
    pending = browser.get(f"/console/reports/{jobs[0].id}/report.pdf")
    assert pending.status_code == 409
    assert "The report is queued" in pending.text


def test_a_batch_without_organizations_is_refused_and_nothing_is_queued(
    make_organization: MakeOrg, consultant_of: ConsultantOf, db: Session
) -> None:
    org = make_organization()
    browser = consultant_of(org)
    token = csrf_of(browser, "/console/reports")

    for data in ({"csrf_token": token}, {"csrf_token": token, "organization_id": "bogus"}):
        response = browser.post("/console/reports", data=data)
        assert response.status_code == 422
        assert 'class="error-summary"' in response.text
        assert 'id="organization-error"' in response.text
    assert _jobs(db) == 0


def test_a_batch_without_the_forms_token_is_refused(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
    db: Session,
) -> None:
    org = make_organization()
    post_assessment(org)
    browser = consultant_of(org)
    before = _jobs(db)  # the submit's own pre-render

    response = browser.post("/console/reports", data={"organization_id": str(org.id)})

    assert response.status_code == 403
    assert _jobs(db) == before


def test_a_batch_naming_another_consultants_organization_queues_nothing_for_it(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
    db: Session,
) -> None:
    mine, theirs = make_organization("Mine"), make_organization("Theirs")
    post_assessment(theirs)
    browser = consultant_of(mine)
    before = _jobs(db)  # the submit's own pre-render

    response = _post_batch(browser, str(theirs.id))

    assert response.status_code == 303
    assert response.headers["location"] == "/console/reports?queued=0&skipped=0&missing=1#progress"
    page = browser.get(response.headers["location"])
    assert "0 reports queued. 1 organization is not among yours." in page.text
    assert _jobs(db) == before


def test_a_job_of_another_organization_is_not_found(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    client: TestClient,
    admin_headers: dict[str, str],
    post_assessment: Callable[..., str],
) -> None:
    mine, theirs = make_organization("Mine"), make_organization("Theirs")
    assessment_id = post_assessment(theirs)
    job = client.post(f"/v1/assessments/{assessment_id}/reports", headers=admin_headers).json()
    browser = consultant_of(mine)

    assert browser.get(f"/console/reports/{job['id']}/report.pdf").status_code == 404
    assert "Theirs" not in browser.get("/console/reports").text


# -- exports ---------------------------------------------------------------------------------


def test_the_export_holds_only_the_users_assessments_with_the_apis_filters(
    make_organization: MakeOrg,
    consultant_of: ConsultantOf,
    post_assessment: Callable[..., str],
    admin_headers: dict[str, str],
) -> None:
    mine, theirs = make_organization("Mine"), make_organization("Theirs")
    submitted = post_assessment(mine)
    draft = post_assessment(mine, status="draft", answers=2)
    post_assessment(theirs)
    browser = consultant_of(mine)

    response = browser.get("/console/exports/assessments.csv")

    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="assessments-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["assessment_id"] for r in rows] == [submitted]
    every = browser.get("/console/exports/assessments.csv", params={"status": "all"})
    ids = {
        r["assessment_id"] for r in csv.DictReader(io.StringIO(every.content.decode("utf-8-sig")))
    }
    assert ids == {submitted, draft}
    xlsx = browser.get(
        "/console/exports/assessments.xlsx", params={"organization_id": str(mine.id)}
    )
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert (
        browser.get("/console/exports/assessments.csv", params={"status": "old"}).status_code == 422
    )
    outside = browser.get(
        "/console/exports/assessments.csv", params={"organization_id": str(theirs.id)}
    )
    assert outside.status_code == 404
