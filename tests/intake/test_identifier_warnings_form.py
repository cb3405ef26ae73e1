"""The web form says, after a page is saved, when typed text looks like a patient identifier."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import app_settings, invite, post_section  # noqa: F401 - fixtures

V1 = {"id": "hospital-social-media", "version": 1}
INCIDENT = "A nurse posted a photo of a wristband: MRN 00451234, DOB 04/12/1957."


@pytest.fixture
def visitor(client: TestClient, invite) -> TestClient:  # noqa: F811 - the fixture
    invited = invite(questionnaire=V1)
    response = client.get(invited.path, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def test_saving_text_with_an_identifier_comes_back_to_the_page_with_a_warning(visitor):
    response = post_section(visitor, "security", {"se_incidents_description": INCIDENT})

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/form/section/security?check=se_incidents_description")
    page = visitor.get(location)
    assert page.status_code == 200
    [question] = [q for q in page.context["questions"] if q.identifier_warning]
    assert question.id == "se_incidents_description"
    assert "date of birth or medical record or account number" in question.identifier_warning
    assert "Check this answer:" in page.text
    assert question.text == INCIDENT  # saved, not refused


def test_saving_the_same_text_again_moves_on(visitor):
    post_section(visitor, "security", {"se_incidents_description": INCIDENT})

    again = post_section(visitor, "security", {"se_incidents_description": INCIDENT})

    assert again.status_code == 303
    assert "check=" not in again.headers["location"]


def test_text_without_identifiers_moves_on_at_once(visitor):
    response = post_section(
        visitor, "security", {"se_incidents_description": "An impostor page was reported."}
    )

    assert response.status_code == 303
    assert "check=" not in response.headers["location"]
