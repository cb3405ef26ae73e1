"""Form fields that are not text get the page back with the error, as the API answers 422."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.intake.models import Assessment
from app.invitations.models import Invitation
from app.web.forms import INVALID_TEXT_MESSAGE
from tests.web.conftest import EXAMPLE_ANSWERS, Invited, csrf_of, post_section

SECURITY = {q: v for q, v in EXAMPLE_ANSWERS.items() if q.startswith("se_")}
NOT_TEXT = ["before\x00after", "\x00", "line\x1bfeed", "\x07"]


def _stored(db: Session, invited: Invited) -> dict[str, object]:
    db.expire_all()
    invitation = db.get_one(Invitation, uuid.UUID(invited.invitation["id"]))
    if invitation.assessment_id is None:
        return {}
    assessment = db.get_one(Assessment, invitation.assessment_id)
    return {a.question_id: a.value for a in assessment.answers}


@pytest.mark.parametrize("typed", NOT_TEXT, ids=["NUL inside", "lone NUL", "escape", "bell"])
@pytest.mark.parametrize("question_id", ["se_incidents_description", "se_policy"])
def test_a_field_that_is_not_text_is_shown_again_with_the_error_and_nothing_is_saved(
    visitor: TestClient, invited: Invited, db: Session, question_id: str, typed: str
) -> None:
    before = _stored(db, invited)

    response = post_section(visitor, "security", {**SECURITY, question_id: typed})

    assert response.status_code == 422, response.text
    context = response.context  # type: ignore[attr-defined]
    errors = {q.id: q.error for q in context["questions"] if q.error}
    assert errors == {question_id: INVALID_TEXT_MESSAGE}
    assert any(link[0].startswith(f"q-{question_id}") for link in context["error_links"])
    assert f'id="q-{question_id}-error"' in response.text
    assert "\x00" not in response.text
    assert _stored(db, invited) == before


def test_text_with_line_breaks_and_tabs_is_saved(
    visitor: TestClient, invited: Invited, db: Session
) -> None:
    text = "First line\r\n\tsecond line"

    response = post_section(visitor, "security", {**SECURITY, "se_incidents_description": text})

    assert response.status_code == 303, response.text
    stored = _stored(db, invited)["se_incidents_description"]
    assert isinstance(stored, str)
    assert stored.replace("\r\n", "\n") == text.replace("\r\n", "\n")


@pytest.mark.parametrize("field", ["type", "licensed_beds"])
def test_a_profile_field_that_is_not_text_is_an_error_next_to_it(
    visitor: TestClient, field: str
) -> None:
    token = csrf_of(visitor, "/form/profile")
    data = {"type": "community_hospital", "licensed_beds": "120", field: "12\x000"}

    response = visitor.post(
        "/form/profile",
        data={"csrf_token": token, "action": "next", **data},
        follow_redirects=False,
    )

    assert response.status_code == 422, response.text
    assert set(response.context["errors"]) == {field}  # type: ignore[attr-defined]
