"""Fixtures for the web form: an invited organization, a browser session on its link."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.organizations.models import Organization
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from tests.conftest import example
from tests.support.questionnaires import definition_of
from tests.support.settings import settings_for

DEFINITION: QuestionnaireDefinition = definition_of(1)
QUESTIONNAIRE_V1 = {"id": "hospital-social-media", "version": 1}
EXAMPLE_ANSWERS: dict[str, Any] = {
    a["question_id"]: ("__na__" if a.get("na") else a["value"])
    for a in example("community-hospital")["answers"]
}


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    """Settings with a key file of the test's own and a rate limit no test reaches."""
    return settings_for(tmp_path, web_rate_limit=100_000, web_rate_burst=100_000)


@dataclass
class Invited:
    """An organization, its invitation (as the API returned it) and the link's path."""

    organization: Organization
    invitation: dict[str, Any]
    path: str

    @property
    def token(self) -> str:
        return self.path.removeprefix("/i/")


@pytest.fixture
def invite(
    client: TestClient,
    admin_headers: dict[str, str],
    make_organization: Callable[..., Organization],
) -> Callable[..., Invited]:
    """Invite an organization through the API."""

    def make(organization: Organization | None = None, **body: Any) -> Invited:
        organization = organization or make_organization()
        body.setdefault("questionnaire", QUESTIONNAIRE_V1)
        response = client.post(
            f"/v1/organizations/{organization.id}/invitations", json=body, headers=admin_headers
        )
        assert response.status_code == 201, response.text
        data = response.json()
        return Invited(organization, data, re.sub(r"^https?://[^/]+", "", data["url"]))

    return make


@pytest.fixture
def invited(invite: Callable[..., Invited]) -> Invited:
    return invite()


def csrf_of(client: TestClient, path: str = "/form") -> str:
    """The CSRF token the page at ``path`` carries."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    token: str = response.context["csrf_token"]  # type: ignore[attr-defined]
    return token


@pytest.fixture
def visitor(client: TestClient, invited: Invited) -> TestClient:
    """The test client, after opening the invitation link (it holds the session cookie)."""
    response = client.get(invited.path, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def input_id(question_id: str, value: Any) -> str:
    """The id of the radio or checkbox that gives ``value`` (text and numbers: the input)."""
    question = DEFINITION.question(question_id)
    match question:
        case SingleChoiceQuestion(options=options):
            values = [o.value for o in options]
            index = len(values) if value == "__na__" else values.index(value)
        case MultipleChoiceQuestion(options=options):
            index = [o.value for o in options].index(value)
        case YesNoQuestion():
            index = 0 if value is True else 1
        case ScaleQuestion(min=low):
            index = int(value) - low
        case NumberQuestion() | TextQuestion():
            return f"q-{question_id}-input"
        case _:
            raise AssertionError(question_id)
    return f"q-{question_id}-{index}"


def form_fields(dimension_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The fields a section's form posts for these answers (as ``data=`` for the client)."""
    fields: dict[str, Any] = {}
    for question in DEFINITION.questions_in(dimension_id):
        if question.id not in answers:
            continue
        value = answers[question.id]
        if isinstance(question, YesNoQuestion) and value != "__na__":
            value = "yes" if value else "no"
        fields[f"q-{question.id}"] = (
            [str(v) for v in value] if isinstance(value, list) else str(value)
        )
    return fields


def post_section(
    client: TestClient, dimension_id: str, answers: dict[str, Any], action: str = "next"
) -> Any:
    """Post a section's form with this session's CSRF token."""
    token = csrf_of(client, f"/form/section/{dimension_id}")
    return client.post(
        f"/form/section/{dimension_id}",
        data={"csrf_token": token, "action": action, **form_fields(dimension_id, answers)},
        follow_redirects=False,
    )


def answer_everything(client: TestClient) -> None:
    """Fill in the profile and every section with the community-hospital example."""
    token = csrf_of(client, "/form/profile")
    response = client.post(
        "/form/profile",
        data={
            "csrf_token": token,
            "action": "next",
            "type": "community_hospital",
            "licensed_beds": "60",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    for dimension in DEFINITION.dimensions:
        response = post_section(client, dimension.id, EXAMPLE_ANSWERS)
        assert response.status_code == 303, response.text
