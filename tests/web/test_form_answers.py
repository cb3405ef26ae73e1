"""The form after submitting, unanswered questions, the review's answers, comments, metrics."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import utcnow
from app.intake.models import Assessment
from app.invitations.models import Invitation
from app.main import create_app
from app.web.forms import COMMENT_MAX_LENGTH, UNANSWERED
from tests.web.conftest import (
    DEFINITION,
    EXAMPLE_ANSWERS,
    Invited,
    answer_everything,
    csrf_of,
    form_fields,
    input_id,
    post_section,
)

PRIVACY_HINT = "Do not enter patient names or any other information that could identify a patient."


def _draft(db: Session, invited: Invited) -> Assessment:
    db.expire_all()
    invitation = db.get_one(Invitation, uuid.UUID(invited.invitation["id"]))
    assert invitation.assessment_id is not None
    return db.get_one(Assessment, invitation.assessment_id)


def _submit(visitor: TestClient) -> None:
    answer_everything(visitor)
    response = visitor.post(
        "/form/submit",
        data={"csrf_token": csrf_of(visitor, "/form/review")},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/form/results"


def _post(
    client: TestClient, dimension_id: str, fields: dict[str, Any], action: str = "next"
) -> Any:
    token = csrf_of(client, f"/form/section/{dimension_id}")
    return client.post(
        f"/form/section/{dimension_id}",
        data={"csrf_token": token, "action": action, **fields},
        follow_redirects=False,
    )


def _required_on_page(dimension_id: str) -> list[str]:
    return [q.id for q in DEFINITION.questions_in(dimension_id) if q.required and not q.show_if]


# -- after submitting: the link leads to the results -----------------------------------


def test_reopening_the_link_after_submitting_reaches_the_results_from_another_device(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    _submit(visitor)
    other_device = TestClient(visitor.app)
    opened = other_device.get(invited.path, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/form"
    assert other_device.get("/form", follow_redirects=False).headers["location"] == (
        "/form/results"
    )
    page = other_device.get("/form/results")
    assert page.status_code == 200
    assert page.template.name == "results.html"  # type: ignore[attr-defined]
    levels = [d["level"] for d in page.context["dimensions"]]  # type: ignore[attr-defined]
    assert levels == [d["level"] for d in _draft(db, invited).scores["dimensions"]]
    assert page.context["actions"]  # type: ignore[attr-defined]
    pdf = other_device.get("/form/roadmap.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    # Each opening of the link is a sign-in in the audit trail, as before submitting.
    sign_ins = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "auth.invitation",
            AuditEvent.invitation_id == uuid.UUID(invited.invitation["id"]),
        )
    ).all()
    assert [e.outcome for e in sign_ins] == ["success", "success"]


def test_after_submitting_nothing_can_change_and_the_message_links_to_the_results(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    _submit(visitor)
    before = {(a.question_id, repr(a.value)) for a in _draft(db, invited).answers}
    other_device = TestClient(visitor.app)
    other_device.get(invited.path)
    for path in ("/form/profile", "/form/section/presence", "/form/review"):
        page = other_device.get(path)
        assert page.status_code == 410
        assert page.context["title"] == "This assessment has already been submitted."  # type: ignore[attr-defined]
        assert page.context["link"] == ("/form/results", "See your results")  # type: ignore[attr-defined]
        assert 'href="/form/results"' in page.text
    token = csrf_of(other_device, "/form/results")
    changed = other_device.post(
        "/form/section/presence",
        data={"csrf_token": token, "action": "next", "q-pr_official_accounts": "none"},
    )
    assert changed.status_code == 410
    again = other_device.post("/form/submit", data={"csrf_token": token})
    assert again.status_code == 410
    assert {(a.question_id, repr(a.value)) for a in _draft(db, invited).answers} == before


def test_a_submitted_link_stops_reaching_the_results_once_revoked(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    _submit(visitor)
    revoked = visitor.delete(f"/v1/invitations/{invited.invitation['id']}", headers=admin_headers)
    assert revoked.status_code == 204
    assert visitor.get("/form/results").status_code == 410
    assert visitor.get("/form/roadmap.pdf").status_code == 410
    response = TestClient(visitor.app).get(invited.path, follow_redirects=False)
    assert response.status_code == 410
    assert response.context["title"] == "This link has been withdrawn."  # type: ignore[attr-defined]
    assert response.context["link"] is None  # type: ignore[attr-defined]


def test_a_submitted_link_stops_reaching_the_results_once_expired(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    _submit(visitor)
    invitation = db.get_one(Invitation, uuid.UUID(invited.invitation["id"]))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    assert visitor.get("/form/results").status_code == 410
    assert visitor.get("/form/roadmap.pdf").status_code == 410
    response = TestClient(visitor.app).get(invited.path, follow_redirects=False)
    assert response.status_code == 410
    assert response.context["title"] == "This link has expired."  # type: ignore[attr-defined]


# -- save and continue with required questions left ------------------------------------


def test_save_and_continue_saves_the_answers_and_flags_the_unanswered_required_ones(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    response = _post(visitor, "presence", {"q-pr_official_accounts": "main_platforms"})
    assert response.status_code == 303
    assert response.headers["location"] == "/form/section/presence?unanswered=true"
    assert {a.question_id: a.value for a in _draft(db, invited).answers} == {
        "pr_official_accounts": "main_platforms"
    }
    page = visitor.get(response.headers["location"])
    assert page.status_code == 200
    assert page.template.name == "section.html"  # type: ignore[attr-defined]
    context = page.context  # type: ignore[attr-defined]
    missing = [q for q in _required_on_page("presence") if q != "pr_official_accounts"]
    assert context["unanswered"] == missing
    errors = {q.id: q.error for q in context["questions"] if q.error}
    assert errors == dict.fromkeys(missing, UNANSWERED)
    assert [target for target, _, _ in context["error_links"]] == [
        input_id(q, _a_value(q)) for q in missing
    ]
    for question_id in missing:
        assert f'href="#{input_id(question_id, _a_value(question_id))}"' in page.text
    assert "not answered yet" in page.text
    assert "Your other answers on this page are saved." in page.text
    assert 'aria-invalid="true"' in page.text
    official = next(q for q in context["questions"] if q.id == "pr_official_accounts")
    assert [c.value for c in official.choices if c.checked] == ["main_platforms"]
    assert 'value="skip"' in page.text  # the person may still move on


def test_continue_without_answering_moves_on_and_the_review_still_lists_them(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    fields = {"q-pr_official_accounts": "main_platforms"}
    assert _post(visitor, "presence", fields).headers["location"].endswith("unanswered=true")
    # Save and continue again, still unanswered: flagged again, nothing lost.
    assert _post(visitor, "presence", fields).headers["location"].endswith("unanswered=true")
    moved = _post(visitor, "presence", fields, action="skip")
    assert moved.headers["location"] == "/form/section/consistency"
    assert [a.question_id for a in _draft(db, invited).answers] == ["pr_official_accounts"]
    review = visitor.get("/form/review").context  # type: ignore[attr-defined]
    presence = {d.id: rows for d, rows in review["sections"]}["presence"]
    assert [r.question_id for r in presence if r.missing] == [
        q for q in _required_on_page("presence") if q != "pr_official_accounts"
    ]


def test_an_empty_required_follow_up_is_flagged_on_its_page(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    answers = {**EXAMPLE_ANSWERS, "pr_platforms": ["facebook", "other"]}
    response = post_section(visitor, "presence", answers)
    assert response.headers["location"] == (
        "/form/section/presence?followup=true&unanswered=true#q-pr_platforms_other"
    )
    page = visitor.get(response.headers["location"].split("#")[0])
    context = page.context  # type: ignore[attr-defined]
    assert context["unanswered"] == ["pr_platforms_other"]
    follow_up = next(q for q in context["questions"] if q.id == "pr_platforms_other")
    assert follow_up.visible
    assert follow_up.error == UNANSWERED
    assert 'href="#q-pr_platforms_other-input"' in page.text
    assert _draft(db, invited).answers  # the rest of the page was saved


def test_a_page_with_every_required_answer_moves_straight_on(visitor: TestClient) -> None:
    response = post_section(visitor, "presence", EXAMPLE_ANSWERS)
    assert response.headers["location"] == "/form/section/consistency"
    page = visitor.get("/form/section/presence?unanswered=true")
    assert page.context["unanswered"] == []  # type: ignore[attr-defined]
    assert page.context["error_links"] == []  # type: ignore[attr-defined]


def _a_value(question_id: str) -> Any:
    """A value whose input is the question's first one."""
    question = DEFINITION.question(question_id)
    assert question is not None
    options = getattr(question, "options", None)
    if options:
        return options[0].value
    if question.type == "yes_no":
        return True
    if question.type == "scale":
        return question.min  # type: ignore[union-attr]
    return "text"


# -- the review page --------------------------------------------------------------------


def test_the_review_shows_every_answer_by_its_label_with_a_change_link(
    visitor: TestClient,
) -> None:
    answer_everything(visitor)
    response = visitor.get("/form/review")
    context = response.context  # type: ignore[attr-defined]
    sections = {d.id: rows for d, rows in context["sections"]}
    assert list(sections) == [d.id for d in DEFINITION.dimensions]
    presence = {r.question_id: r for r in sections["presence"]}
    platforms = DEFINITION.question("pr_platforms")
    labels = {o.value: o.label for o in platforms.options}  # type: ignore[union-attr]
    chosen = EXAMPLE_ANSWERS["pr_platforms"]
    assert presence["pr_platforms"].answer == "; ".join(labels[v] for v in chosen)
    assert presence["pr_platforms"].change_url == "/form/section/presence#q-pr_platforms-0"
    posts = presence["pr_posts_per_week"]
    assert posts.answer is not None
    assert posts.answer.startswith(f"{EXAMPLE_ANSWERS['pr_posts_per_week']:g} ")
    assert posts.change_url == "/form/section/presence#q-pr_posts_per_week-input"
    for dimension in DEFINITION.dimensions:
        for row in sections[dimension.id]:
            assert row.question_id in EXAMPLE_ANSWERS or not row.required
            assert f'href="{row.change_url}"' in response.text
            if row.answer is not None:
                assert row.answer not in ("none", "main_platforms")  # labels, not codes
    assert labels[chosen[0]] in response.text
    assert "Every required question is answered." in response.text
    assert context["missing_count"] == 0


def test_the_review_marks_unanswered_required_questions(visitor: TestClient) -> None:
    answers = {k: v for k, v in EXAMPLE_ANSWERS.items() if k != "pr_platforms"}
    post_section(visitor, "presence", answers, action="skip")
    response = visitor.get("/form/review")
    rows = {d.id: r for d, r in response.context["sections"]}  # type: ignore[attr-defined]
    platforms = next(r for r in rows["presence"] if r.question_id == "pr_platforms")
    assert platforms.answer is None
    assert platforms.missing
    assert "Not answered" in response.text
    assert "(required)" in response.text
    assert 'href="/form/section/presence#q-pr_platforms-0">Answer' in response.text
    assert all(r.missing == r.required for r in rows["consistency"])


# -- comments and the privacy hint ------------------------------------------------------


def test_a_comment_is_saved_with_its_answer_and_the_api_reads_it(
    visitor: TestClient, invited: Invited, db: Session, admin_headers: dict[str, str]
) -> None:
    fields = {
        **form_fields("presence", EXAMPLE_ANSWERS),
        "q-pr_official_accounts-comment": "  Two more accounts are run by the foundation.  ",
    }
    assert _post(visitor, "presence", fields).headers["location"] == "/form/section/consistency"
    draft = _draft(db, invited)
    api = visitor.get(f"/v1/assessments/{draft.id}", headers=admin_headers).json()
    comments = {a["question_id"]: a.get("comment") for a in api["answers"] if a.get("comment")}
    assert comments == {"pr_official_accounts": "Two more accounts are run by the foundation."}
    page = visitor.get("/form/section/presence")
    assert "Two more accounts are run by the foundation.</textarea>" in page.text
    review = visitor.get("/form/review")
    assert "Comment: Two more accounts are run by the foundation." in review.text


def test_a_comment_longer_than_the_api_allows_is_refused_naming_its_field(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    long = "x" * (COMMENT_MAX_LENGTH + 1)
    fields = {**form_fields("presence", EXAMPLE_ANSWERS), "q-pr_platforms-comment": long}
    response = _post(visitor, "presence", fields)
    assert response.status_code == 422
    context = response.context  # type: ignore[attr-defined]
    platforms = next(q for q in context["questions"] if q.id == "pr_platforms")
    assert platforms.comment_error is not None
    assert f"{COMMENT_MAX_LENGTH:,} characters" in platforms.comment_error
    assert [target for target, _, _ in context["error_links"]] == ["q-pr_platforms-comment"]
    assert 'href="#q-pr_platforms-comment"' in response.text
    assert f">{long}</textarea>" in response.text  # what was typed is kept
    invitation = db.get_one(Invitation, uuid.UUID(invited.invitation["id"]))
    assert invitation.assessment_id is None or not _draft(db, invited).answers


def test_a_comment_without_an_answer_is_kept_on_the_page_with_a_note(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    answers = {k: v for k, v in EXAMPLE_ANSWERS.items() if k != "pr_platforms"}
    fields = {**form_fields("presence", answers), "q-pr_platforms-comment": "Ask marketing"}
    response = _post(visitor, "presence", fields)
    assert response.status_code == 422
    platforms = next(q for q in response.context["questions"] if q.id == "pr_platforms")  # type: ignore[attr-defined]
    assert platforms.comment_error == "Answer the question to keep this comment with it."
    assert ">Ask marketing</textarea>" in response.text


def test_every_comment_and_free_text_field_carries_the_patient_privacy_hint(
    visitor: TestClient,
) -> None:
    for dimension in DEFINITION.dimensions:
        page = visitor.get(f"/form/section/{dimension.id}")
        questions = DEFINITION.questions_in(dimension.id)
        free_text = [q for q in questions if q.type == "text"]
        assert page.text.count(PRIVACY_HINT) == len(questions) + len(free_text)
        for question in questions:
            assert f'id="q-{question.id}-comment"' in page.text
            assert f'maxlength="{COMMENT_MAX_LENGTH}"' in page.text
            assert f'aria-describedby="q-{question.id}-comment-hint"' in page.text
        for question in free_text:
            assert f'id="q-{question.id}-privacy"' in page.text


# -- the exclusive option ----------------------------------------------------------------


def test_an_exclusive_option_combined_with_others_is_named_by_its_label(
    visitor: TestClient,
) -> None:
    response = post_section(visitor, "presence", {"pr_platforms": ["facebook", "none"]})
    assert response.status_code == 422
    errors = {q.id: q.error for q in response.context["questions"] if q.error}  # type: ignore[attr-defined]
    message = errors["pr_platforms"]
    assert message is not None
    assert "None in the last 90 days" in message
    assert "'none'" not in message
    assert "None in the last 90 days" in response.text


# -- metrics -------------------------------------------------------------------------------


def _created_by_web(client: TestClient) -> float:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "smm_assessments_total" and sample.labels == {
                "event": "created",
                "source": "web",
            }:
                return sample.value
    return 0.0


def test_the_form_counts_the_assessments_it_creates_in_metrics(
    visitor: TestClient, invited: Invited
) -> None:
    before = _created_by_web(visitor)
    for _ in range(2):  # starting twice makes one draft, counted once
        visitor.post("/form/start", data={"csrf_token": csrf_of(visitor)})
    post_section(visitor, "presence", EXAMPLE_ANSWERS)
    assert _created_by_web(visitor) == before + 1


# -- the session cookie's Secure flag ------------------------------------------------------


def _cookie(
    app_settings: Settings, client: TestClient, invited: Invited, url: str, mode: str
) -> str:
    app = create_app(
        app_settings.model_copy(update={"cookie_secure": mode}),
        engine=client.app.state.engine,  # type: ignore[attr-defined]
        registry=client.app.state.registry,  # type: ignore[attr-defined]
    )
    app.state.session_factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with TestClient(app) as browser:
        response = browser.get(url + invited.path, follow_redirects=False)
        assert response.status_code == 303
        cookie: str = response.headers["set-cookie"]
        return cookie


def test_the_session_cookie_secure_flag_follows_the_setting(
    app_settings: Settings, client: TestClient, invited: Invited
) -> None:
    http, https = "http://testserver", "https://testserver"
    assert "Secure" in _cookie(app_settings, client, invited, http, "always")
    assert "Secure" in _cookie(app_settings, client, invited, https, "always")
    assert "Secure" not in _cookie(app_settings, client, invited, https, "never")
    assert "Secure" not in _cookie(app_settings, client, invited, http, "auto")
    assert "Secure" in _cookie(app_settings, client, invited, https, "auto")


def test_the_cookie_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_COOKIE_SECURE", "always")
    assert Settings().cookie_secure == "always"
    monkeypatch.setenv("SMM_COOKIE_SECURE", "sometimes")
    with pytest.raises(ValueError, match="cookie_secure"):
        Settings()
