"""Version 2's help in the form: what would show an answer, and where the rules come from."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import app_settings, invite  # noqa: F401 - fixtures

V2 = {"id": "hospital-social-media", "version": 2}


@pytest.fixture
def visitor(client: TestClient, invite) -> TestClient:  # noqa: F811 - the fixture
    response = client.get(invite(questionnaire=V2).path, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def test_a_question_with_evidence_says_what_would_show_it(visitor, registry):
    question = registry.get("hospital-social-media", 2).definition.question("se_account_access")
    assert question is not None
    assert question.evidence

    page = visitor.get("/form/section/security")

    assert page.status_code == 200
    [view] = [q for q in page.context["questions"] if q.id == "se_account_access"]
    assert view.evidence == question.evidence
    assert "What would show it:" in page.text
    assert question.evidence.split()[0] in page.text


def test_every_question_with_sources_lists_them_in_its_help(visitor, registry):
    definition = registry.get("hospital-social-media", 2).definition
    page = visitor.get("/form/section/security")

    for view in page.context["questions"]:
        question = definition.question(view.id)
        assert question is not None
        assert view.sources == question.sources
    assert page.text.count('class="help-sources"') == sum(
        1 for v in page.context["questions"] if v.sources
    )
