"""The form's pages through the test client: templates, context, saving, review, results."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.intake.models import Assessment
from app.invitations.models import Invitation
from app.jobs.models import ReportFile
from app.organizations.models import Organization
from app.web.security import SESSION_COOKIE
from tests.conftest import bearer
from tests.web.conftest import (
    DEFINITION,
    EXAMPLE_ANSWERS,
    Invited,
    answer_everything,
    csrf_of,
    input_id,
    post_section,
)


def _draft_id(db: Session, invited: Invited) -> uuid.UUID | None:
    db.expire_all()
    invitation = db.get_one(Invitation, uuid.UUID(invited.invitation["id"]))
    return invitation.assessment_id


def test_link_is_exchanged_for_an_http_only_cookie_and_a_url_without_the_token(
    client: TestClient, invited: Invited
) -> None:
    response = client.get(invited.path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/form"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure
    assert invited.token not in cookie


def test_https_requests_get_a_secure_cookie(client: TestClient, invited: Invited) -> None:
    response = client.get("https://testserver" + invited.path, follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]


def test_welcome_page_offers_to_start_and_changes_nothing_on_get(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    response = visitor.get("/form")
    assert response.status_code == 200
    assert response.template.name == "welcome.html"  # type: ignore[attr-defined]
    assert response.context["started"] is False  # type: ignore[attr-defined]
    assert response.context["organization"].name == invited.organization.name  # type: ignore[attr-defined]
    for path in ("/form/profile", "/form/review", f"/form/section/{DEFINITION.dimensions[0].id}"):
        assert visitor.get(path).status_code == 200
    assert _draft_id(db, invited) is None


def test_starting_makes_one_web_draft_that_the_api_sees(
    visitor: TestClient, invited: Invited, db: Session, admin_headers: dict[str, str]
) -> None:
    for _ in range(2):
        token = csrf_of(visitor)
        response = visitor.post("/form/start", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/form/profile"
    draft_id = _draft_id(db, invited)
    assert draft_id is not None
    assert db.scalar(select(func.count()).select_from(Assessment)) == 1
    seen = visitor.get(f"/v1/assessments/{draft_id}", headers=admin_headers).json()
    assert seen["status"] == "draft"
    assert seen["source"] == "web"
    assert visitor.get(f"/v1/invitations/{invited.invitation['id']}", headers=admin_headers).json()[
        "assessment_id"
    ] == str(draft_id)


def test_tampered_link_gets_a_friendly_not_found_page(client: TestClient, invited: Invited) -> None:
    tampered = invited.path[:-3] + ("AAA" if not invited.path.endswith("AAA") else "BBB")
    for path in (tampered, "/i/made-up", "/i/" + "x" * 500):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 404
        assert response.template.name == "error.html"  # type: ignore[attr-defined]
        assert "whole link" in response.context["advice"]  # type: ignore[attr-defined]
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert "Traceback" not in response.text


def test_expired_link_gets_a_gone_page_saying_what_to_do(
    client: TestClient, invited: Invited, db: Session
) -> None:
    invitation = db.get_one(Invitation, uuid.UUID(invited.invitation["id"]))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    response = client.get(invited.path, follow_redirects=False)
    assert response.status_code == 410
    assert response.context["title"] == "This link has expired."  # type: ignore[attr-defined]
    assert "new link" in response.context["advice"]  # type: ignore[attr-defined]


def test_revoked_link_stops_working_at_once_even_mid_session(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    assert visitor.get("/form").status_code == 200
    revoked = visitor.delete(f"/v1/invitations/{invited.invitation['id']}", headers=admin_headers)
    assert revoked.status_code == 204
    assert visitor.get("/form").status_code == 410
    response = visitor.get(invited.path, follow_redirects=False)
    assert response.status_code == 410
    assert response.context["title"] == "This link has been withdrawn."  # type: ignore[attr-defined]


def test_form_pages_without_a_session_ask_for_the_link(client: TestClient) -> None:
    for path in ("/form", "/form/profile", "/form/review", "/form/results"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.template.name == "error.html"  # type: ignore[attr-defined]
        assert "invitation" in response.context["advice"]  # type: ignore[attr-defined]


def test_a_forged_session_cookie_is_no_session(client: TestClient, invited: Invited) -> None:
    client.get(invited.path, follow_redirects=False)
    cookie = client.cookies[SESSION_COOKIE]
    invitation_hex, nonce, _ = cookie.split(".")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, f"{invitation_hex}.{nonce}.forged")
    assert client.get("/form").status_code == 403


def test_posts_without_this_sessions_csrf_token_are_refused(
    visitor: TestClient, invited: Invited, invite: Callable[..., Invited], db: Session
) -> None:
    other = TestClient(visitor.app)
    other.get(invite().path, follow_redirects=False)
    foreign_token = csrf_of(other)
    for data in ({}, {"csrf_token": "nonsense"}, {"csrf_token": foreign_token}):
        response = visitor.post("/form/start", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert response.context["title"] == "This page has expired"  # type: ignore[attr-defined]
    assert _draft_id(db, invited) is None


def test_profile_updates_the_organizations_type_and_beds(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    page = visitor.get("/form/profile")
    assert page.template.name == "profile.html"  # type: ignore[attr-defined]
    assert page.context["values"] == {  # type: ignore[attr-defined]
        "type": "community_hospital",
        "licensed_beds": "120",
        "staff_hours_per_month": "",
    }
    response = visitor.post(
        "/form/profile",
        data={
            "csrf_token": page.context["csrf_token"],  # type: ignore[attr-defined]
            "type": "critical_access_hospital",
            "licensed_beds": "25",
            "action": "next",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/form/section/{DEFINITION.dimensions[0].id}"
    db.expire_all()
    organization = db.get_one(Organization, invited.organization.id)
    assert (organization.type, organization.licensed_beds) == ("critical_access_hospital", 25)
    assert _draft_id(db, invited) is not None


def test_profile_errors_sit_next_to_their_fields_and_in_a_linked_summary(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    token = csrf_of(visitor, "/form/profile")
    response = visitor.post(
        "/form/profile",
        data={"csrf_token": token, "type": "castle", "licensed_beds": "many", "action": "next"},
    )
    assert response.status_code == 422
    context = response.context  # type: ignore[attr-defined]
    assert set(context["errors"]) == {"type", "licensed_beds"}
    assert [target for target, _ in context["error_links"]] == ["type-0", "licensed-beds"]
    assert 'href="#licensed-beds"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="many"' in response.text  # what was typed is kept
    db.expire_all()
    assert db.get_one(Organization, invited.organization.id).licensed_beds == 120


def test_each_section_shows_its_questions_in_definition_order_with_help(
    visitor: TestClient,
) -> None:
    for dimension in DEFINITION.dimensions:
        response = visitor.get(f"/form/section/{dimension.id}")
        assert response.template.name == "section.html"  # type: ignore[attr-defined]
        questions = response.context["questions"]  # type: ignore[attr-defined]
        assert [q.id for q in questions] == [q.id for q in DEFINITION.questions_in(dimension.id)]
        for question in DEFINITION.questions_in(dimension.id):
            assert f'id="q-{question.id}-help"' in response.text
        hidden = {q.id for q in questions if not q.visible}
        assert hidden == {q.id for q in DEFINITION.questions_in(dimension.id) if q.show_if}


def test_an_answer_intake_refuses_is_shown_next_to_its_question_and_nothing_is_saved(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    answers = {**EXAMPLE_ANSWERS, "co_response_hours": 500}
    response = post_section(visitor, "consistency", answers)
    assert response.status_code == 422
    context = response.context  # type: ignore[attr-defined]
    errors = {q.id: q.error for q in context["questions"] if q.error}
    assert errors == {"co_response_hours": "This answer 500 is outside 0 to 168 hours."}
    assert context["error_links"] == [
        (
            "q-co_response_hours-input",
            DEFINITION.question("co_response_hours").prompt,  # type: ignore[union-attr]
            errors["co_response_hours"],
        )
    ]
    assert 'href="#q-co_response_hours-input"' in response.text
    assert 'aria-describedby="q-co_response_hours-help q-co_response_hours-error' in response.text
    draft_id = _draft_id(db, invited)
    assert draft_id is None or not db.get_one(Assessment, draft_id).answers


def test_text_that_is_not_a_number_is_an_error_for_a_number_question(
    visitor: TestClient,
) -> None:
    response = post_section(visitor, "presence", {"pr_posts_per_week": "lots"})
    assert response.status_code == 422
    errors = {q.id: q.error for q in response.context["questions"] if q.error}  # type: ignore[attr-defined]
    assert errors == {"pr_posts_per_week": "Enter a number of posts per week, like 0"}


def test_a_follow_up_appears_after_saving_when_its_condition_holds(
    visitor: TestClient,
) -> None:
    response = post_section(visitor, "presence", {**EXAMPLE_ANSWERS, "pr_platforms": ["other"]})
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/form/section/presence?followup=true&unanswered=true#q-pr_platforms_other"
    )
    page = visitor.get(response.headers["location"])
    assert page.context["followup"] is True  # type: ignore[attr-defined]
    shown = {q.id: q.visible for q in page.context["questions"]}  # type: ignore[attr-defined]
    assert shown["pr_platforms_other"] is True
    # Answered, the section moves on.
    response = post_section(
        visitor,
        "presence",
        {
            **EXAMPLE_ANSWERS,
            "pr_platforms": ["other"],
            "pr_platforms_other": "Threads, for recruiting nurses.",
        },
    )
    assert response.headers["location"] == "/form/section/consistency"


def test_an_answer_to_a_follow_up_that_is_no_longer_asked_is_dropped(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    post_section(visitor, "presence", {"pr_platforms": ["other"], "pr_platforms_other": "Threads"})
    post_section(
        visitor, "presence", {"pr_platforms": ["facebook"], "pr_platforms_other": "Threads"}
    )
    draft = db.get_one(Assessment, _draft_id(db, invited))
    db.refresh(draft)
    assert {a.question_id: a.value for a in draft.answers} == {"pr_platforms": ["facebook"]}


def test_save_and_finish_later_keeps_answers_for_a_fresh_browser(
    visitor: TestClient, invited: Invited
) -> None:
    response = post_section(visitor, "presence", EXAMPLE_ANSWERS, action="later")
    assert response.headers["location"] == "/form/saved"
    assert visitor.get("/form/saved").template.name == "saved.html"  # type: ignore[attr-defined]

    fresh = TestClient(visitor.app)
    fresh.get(invited.path)
    welcome = fresh.get("/form")
    assert welcome.context["started"] is True  # type: ignore[attr-defined]
    assert welcome.context["resume_url"] == "/form/section/consistency"  # type: ignore[attr-defined]
    page = fresh.get("/form/section/presence")
    official = next(q for q in page.context["questions"] if q.id == "pr_official_accounts")  # type: ignore[attr-defined]
    assert [c.value for c in official.choices if c.checked] == ["main_platforms"]


def test_back_saves_and_returns_to_the_previous_page(visitor: TestClient) -> None:
    response = post_section(visitor, "consistency", {"co_strategy": "none"}, action="back")
    assert response.headers["location"] == "/form/section/presence"
    page = visitor.get("/form/section/consistency")
    strategy = next(q for q in page.context["questions"] if q.id == "co_strategy")  # type: ignore[attr-defined]
    assert [c.value for c in strategy.choices if c.checked] == ["none"]


def test_review_lists_each_unanswered_required_question_with_a_link_back(
    visitor: TestClient,
) -> None:
    post_section(visitor, "presence", EXAMPLE_ANSWERS)
    response = visitor.get("/form/review")
    assert response.template.name == "review.html"  # type: ignore[attr-defined]
    by_section = {
        d.id: [(r.change_url, r.prompt) for r in rows if r.missing]
        for d, rows in response.context["sections"]  # type: ignore[attr-defined]
    }
    assert by_section["presence"] == []
    consistency = [
        q for q in DEFINITION.questions_in("consistency") if q.required and not q.show_if
    ]
    assert by_section["consistency"] == [
        (f"/form/section/consistency#{input_id(q.id, _first_value(q.id))}", q.prompt)
        for q in consistency
    ]
    first = consistency[0].id
    assert (
        f'href="/form/section/consistency#{input_id(first, _first_value(first))}"' in response.text
    )


def _first_value(question_id: str) -> object:
    """A value whose input is the question's first (its field anchor)."""
    question = DEFINITION.question(question_id)
    options = getattr(question, "options", None)
    if options:
        return options[0].value
    if question is not None and question.type == "yes_no":
        return True
    if question is not None and question.type == "scale":
        return question.min  # type: ignore[union-attr]
    return None


def test_submitting_an_incomplete_assessment_lists_what_is_missing(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    post_section(visitor, "presence", EXAMPLE_ANSWERS)
    token = csrf_of(visitor, "/form/review")
    response = visitor.post("/form/submit", data={"csrf_token": token})
    assert response.status_code == 422
    errors = response.context["errors"]  # type: ignore[attr-defined]
    assert errors[0][0] == "/form/section/consistency#q-co_strategy-0"
    assert errors[0][2] == "Answer this question before submitting."
    assert db.get_one(Assessment, _draft_id(db, invited)).status == "draft"


def test_submitting_shows_levels_chart_reasons_and_the_first_phase(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str], db: Session
) -> None:
    answer_everything(visitor)
    token = csrf_of(visitor, "/form/review")
    response = visitor.post("/form/submit", data={"csrf_token": token}, follow_redirects=False)
    assert response.headers["location"] == "/form/results"
    page = visitor.get("/form/results")
    assert page.template.name == "results.html"  # type: ignore[attr-defined]
    context = page.context  # type: ignore[attr-defined]
    api = visitor.get(f"/v1/assessments/{_draft_id(db, invited)}", headers=admin_headers).json()
    assert api["status"] == "submitted"
    assert [d["level"] for d in context["dimensions"]] == [
        d["level"] for d in api["scores"]["dimensions"]
    ]
    assert context["dimensions"][0]["why"].startswith("Level ")
    assert "(pr_" not in context["dimensions"][0]["why"]  # no ids meant for analysts
    assert str(context["radar"]).startswith("<svg")
    assert context["phase"].title
    assert context["actions"]
    assert 'href="/form/roadmap.pdf"' in page.text
    # The answers can no longer change; the session still shows the results.
    assert visitor.get("/form/profile").status_code == 410
    assert visitor.get("/form").headers.get("location") is None


def test_the_results_say_in_words_what_the_next_level_needs(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str], db: Session
) -> None:
    answer_everything(visitor)
    visitor.post("/form/submit", data={"csrf_token": csrf_of(visitor, "/form/review")})
    context = visitor.get("/form/results").context  # type: ignore[attr-defined]
    api = visitor.get(f"/v1/assessments/{_draft_id(db, invited)}", headers=admin_headers).json()

    prompts = {q.id: q.prompt for q in DEFINITION.questions}
    for shown, scored in zip(context["dimensions"], api["scores"]["dimensions"], strict=True):
        # The level's own definition, not "Level 2, Developing, in Presence means: ...".
        assert not shown["description"].startswith("Level ")
        needed = scored["next_level"]["gates_to_meet"] if scored["next_level"] else []
        assert shown["next_questions"] == [prompts[g["question_id"]] for g in needed]
        if shown["next"]:
            assert shown["next"].startswith(f"To reach level {shown['level'] + 1} (")
            assert "gate" not in shown["next"]
    assert any(d["next_questions"] for d in context["dimensions"])


def test_the_roadmap_pdf_comes_through_the_report_cache(visitor: TestClient, db: Session) -> None:
    answer_everything(visitor)
    visitor.post("/form/submit", data={"csrf_token": csrf_of(visitor, "/form/review")})
    first = visitor.get("/form/roadmap.pdf")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content.startswith(b"%PDF")
    assert "attachment" in first.headers["content-disposition"]
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 1
    assert visitor.get("/form/roadmap.pdf").content == first.content


def test_the_roadmap_pdf_is_not_offered_before_submitting(visitor: TestClient) -> None:
    response = visitor.get("/form/roadmap.pdf")
    assert response.status_code == 409
    assert response.template.name == "error.html"  # type: ignore[attr-defined]
    assert visitor.get("/form/results", follow_redirects=False).headers["location"] == (
        "/form/review"
    )


def test_an_unknown_section_is_a_friendly_not_found_page(visitor: TestClient) -> None:
    response = visitor.get("/form/section/nonsense")
    assert response.status_code == 404
    assert response.template.name == "error.html"  # type: ignore[attr-defined]


def test_partner_keys_see_nothing_of_the_form(
    visitor: TestClient, make_key: Callable[..., str], invited: Invited
) -> None:
    partner = make_key("partner", [invited.organization.id])
    response = visitor.post(
        f"/v1/organizations/{invited.organization.id}/invitations", json={}, headers=bearer(partner)
    )
    assert response.status_code == 403
