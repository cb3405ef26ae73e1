"""An organization's history of submitted assessments, and comparing two of them."""

from __future__ import annotations

import uuid

import pytest

from app.errors import Conflict
from app.history.service import compare
from app.intake.models import Assessment
from app.questionnaire.registry import QuestionnaireRegistry
from tests.conftest import bearer
from tests.consultant.conftest import day


def test_history_lists_submitted_assessments_oldest_first_with_scores_and_levels(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside Community Hospital")
    later = submit(org, "academic-medical-center", on=day(9))
    earlier = submit(org, "community-hospital", on=day(3))
    submit(org, status="draft")
    submit(make_organization("Another Hospital"), on=day(5))

    response = client.get(f"/v1/organizations/{org.id}/history", headers=admin_headers)

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["assessment_id"] for i in items] == [earlier["id"], later["id"]]
    assert items[0]["submitted_at"].startswith("2025-03-01")
    assert items[0]["questionnaire"] == {"id": "hospital-social-media", "version": 1}
    levels = [{d["dimension_id"]: d["level"] for d in i["dimensions"]} for i in items]
    assert levels == [
        {"presence": 2, "consistency": 1, "security": 2},
        {"presence": 4, "consistency": 3, "security": 4},
    ]
    assert [i["overall_level"] for i in items] == [1, 3]
    first_scores = {d["dimension_id"]: d["score"] for d in items[0]["dimensions"]}
    assert first_scores == {d["dimension_id"]: d["score"] for d in earlier["scores"]["dimensions"]}


def test_history_of_an_organization_without_submissions_is_empty(
    client, admin_headers, make_organization, submit
):
    org = make_organization()
    submit(org, status="draft")

    response = client.get(f"/v1/organizations/{org.id}/history", headers=admin_headers)

    assert response.json() == {"organization_id": str(org.id), "items": []}


def test_compare_gives_the_change_per_dimension_and_per_question(
    client, admin_headers, make_organization, submit
):
    org = make_organization()
    before = submit(org, "community-hospital", on=day(3))
    after = submit(org, "academic-medical-center", on=day(9))

    response = client.get(
        f"/v1/assessments/{before['id']}/compare/{after['id']}", headers=admin_headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["before"]["assessment_id"] == before["id"]
    assert body["after"]["assessment_id"] == after["id"]
    assert (body["overall_level_before"], body["overall_level_after"]) == (1, 3)
    security = next(d for d in body["dimensions"] if d["dimension_id"] == "security")
    assert (security["level_before"], security["level_after"]) == (2, 4)
    assert security["score_delta"] == round(security["score_after"] - security["score_before"], 2)
    assert security["score_delta"] > 0
    questions = {q["question_id"]: q for q in body["questions"]}
    verification = questions["pr_verification"]
    assert verification["presence"] == "both"
    assert verification["before"]["value"] == "none"
    assert verification["before"]["answer"]  # in words, as the report shows it
    assert verification["after"]["value"] != "none"
    assert verification["score_delta"] == (
        verification["after"]["score"] - verification["before"]["score"]
    )
    free_text = questions["se_anything_else"]
    assert free_text["score_delta"] is None


def test_compare_the_other_way_round_negates_every_delta(
    client, admin_headers, make_organization, submit
):
    org = make_organization()
    first = submit(org, "community-hospital", on=day(3))
    second = submit(org, "academic-medical-center", on=day(9))

    forward = client.get(
        f"/v1/assessments/{first['id']}/compare/{second['id']}", headers=admin_headers
    ).json()
    backward = client.get(
        f"/v1/assessments/{second['id']}/compare/{first['id']}", headers=admin_headers
    ).json()

    assert {d["dimension_id"]: d["score_delta"] for d in forward["dimensions"]} == {
        d["dimension_id"]: -d["score_delta"] for d in backward["dimensions"]
    }


def test_compare_with_an_assessment_out_of_scope_is_404(
    client, make_key, make_organization, submit
):
    mine, theirs = make_organization("Mine"), make_organization("Theirs")
    own = submit(mine)
    foreign = submit(theirs)
    consultant = bearer(make_key("consultant", [mine.id]))

    for path in (
        f"/v1/assessments/{own['id']}/compare/{foreign['id']}",
        f"/v1/assessments/{foreign['id']}/compare/{own['id']}",
        f"/v1/assessments/{own['id']}/compare/{uuid.uuid4()}",
    ):
        response = client.get(path, headers=consultant)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


def test_assessments_of_different_questionnaires_do_not_compare(registry: QuestionnaireRegistry):
    one = Assessment(questionnaire_id="hospital-social-media", questionnaire_version=1)
    other = Assessment(questionnaire_id="clinic-social-media", questionnaire_version=1)

    with pytest.raises(Conflict, match="same questionnaire"):
        compare(registry, one, other)


def _assessment(definition, answers, version):
    from app.intake.models import Answer
    from app.scoring.engine import score_answers

    values = {
        a["question_id"]: a["value"]
        for a in answers
        if a["question_id"] in {q.id for q in definition.questions}
    }
    return Assessment(
        id=uuid.uuid4(),
        organization_id=uuid.uuid4(),
        questionnaire_id=definition.id,
        questionnaire_version=version,
        status="submitted",
        submitted_at=day(3 + version),
        scores=score_answers(definition, values).to_dict(),
        answers=[
            Answer(question_id=qid, position=n, value=value, na=False)
            for n, (qid, value) in enumerate(values.items())
        ],
    )


def test_a_question_asked_in_only_one_version_is_marked(registry: QuestionnaireRegistry):
    from pathlib import Path

    from app.questionnaire.loader import LoadedDefinition
    from tests.conftest import example

    v1 = registry.get("hospital-social-media", 1)
    dropped = "pr_podcast"
    v2 = v1.definition.model_copy(
        update={
            "version": 2,
            "questions": tuple(q for q in v1.definition.questions if q.id != dropped),
        }
    )
    both = QuestionnaireRegistry.of([v1, LoadedDefinition(v2, Path("v2.yaml"), "hash")])
    answers = example("academic-medical-center")["answers"]

    comparison = compare(both, _assessment(v1.definition, answers, 1), _assessment(v2, answers, 2))

    questions = {q.question_id: q for q in comparison.questions}
    assert questions[dropped].presence == "only_before"
    assert questions[dropped].after is None
    assert questions[dropped].before is not None
    assert questions[dropped].score_delta is None
    assert questions["pr_verification"].presence == "both"
    assert questions["pr_verification"].score_delta == 0
    assert list(questions)[-1] == dropped  # after every question of the newer version


def test_a_draft_compares_too_and_says_it_is_a_draft(
    client, admin_headers, make_organization, submit
):
    org = make_organization()
    submitted = submit(org, on=day(3))
    draft = submit(org, "academic-medical-center", status="draft")

    response = client.get(
        f"/v1/assessments/{submitted['id']}/compare/{draft['id']}", headers=admin_headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["before"]["status"] == "submitted"
    assert body["after"]["status"] == "draft"
    assert body["after"]["submitted_at"] is None
