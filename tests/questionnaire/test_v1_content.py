"""The shipped questionnaire, hospital-social-media v1, and the two example answer files."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.intake.schemas import AnswersFile
from app.intake.validation import check_answers
from app.questionnaire.answers import NA
from app.questionnaire.loader import load_directory
from app.questionnaire.rules import is_scored, score_range
from app.questionnaire.schemas import QuestionnaireDefinition, QuestionType
from app.scoring.engine import score_answers
from tests.support.questionnaires import definition_of

V1 = PROJECT_ROOT / "questionnaires" / "hospital-social-media" / "v1.yaml"
DIMENSIONS = ("presence", "consistency", "security")


@pytest.fixture(scope="module")
def definition() -> QuestionnaireDefinition:
    return definition_of(1)


def example(name: str) -> AnswersFile:
    text = (PROJECT_ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8")
    return AnswersFile.model_validate(json.loads(text))


def test_v1_loads_with_the_directory_and_matches_its_file_name(definition):
    loaded = {(x.definition.id, x.definition.version) for x in load_directory(V1.parent.parent)}

    assert ("hospital-social-media", 1) in loaded
    assert (definition.id, definition.version) == ("hospital-social-media", 1)
    assert [d.id for d in definition.dimensions] == list(DIMENSIONS)


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_each_dimension_has_at_least_ten_scored_questions(definition, dimension):
    scored = [q for q in definition.questions_in(dimension) if is_scored(q)]

    assert len(scored) >= 10, [q.id for q in scored]


def test_every_question_type_is_used(definition):
    used = Counter(q.type for q in definition.questions)

    assert set(used) == set(QuestionType)


def test_every_question_has_a_prompt_and_help_text(definition):
    lacking = [q.id for q in definition.questions if len(q.help) < 40 or not q.prompt]

    assert lacking == []


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("level", [2, 3, 4, 5])
def test_each_dimension_gates_every_level_above_1(definition, dimension, level):
    gates = [
        (q.id, g.min_score)
        for q in definition.questions_in(dimension)
        for g in q.gates
        if g.level == level
    ]

    assert gates, f"{dimension} has no gate for level {level}"


def test_gates_sit_on_questions_that_are_always_asked_and_can_pass_or_fail(definition):
    for question in definition.questions:
        low, high = score_range(question)
        for gate in question.gates:
            assert question.show_if is None, question.id
            assert low < gate.min_score <= high, (question.id, gate)


def test_there_are_follow_up_questions(definition):
    follow_ups = [q.id for q in definition.questions if q.show_if is not None]

    assert len(follow_ups) >= 2
    assert all(definition.question(q).show_if.question != q for q in follow_ups)


def test_some_questions_allow_not_applicable(definition):
    allow_na = [q.id for q in definition.questions if q.allow_na]

    assert allow_na
    assert all(definition.question(q).na_label for q in allow_na)


def test_question_ids_are_prefixed_by_their_dimension(definition):
    prefixes = {"presence": "pr_", "consistency": "co_", "security": "se_"}

    assert [q.id for q in definition.questions if not q.id.startswith(prefixes[q.dimension])] == []


def test_best_answers_can_reach_every_level_5_threshold(definition):
    for dimension in definition.dimensions:
        scored = [q for q in definition.questions_in(dimension.id) if is_scored(q)]
        best = sum(score_range(q)[1] * q.weight for q in scored) / sum(q.weight for q in scored)
        assert best >= dimension.thresholds.level_5, dimension.id


EXPECTED_LEVELS = {
    "community-hospital": {"presence": 2, "consistency": 1, "security": 2},
    "academic-medical-center": {"presence": 4, "consistency": 3, "security": 4},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_LEVELS))
def test_example_is_a_complete_valid_submission(definition, name):
    answers_file = example(name)

    answers = check_answers(definition, answers_file.answers, submitting=True)

    assert answers_file.status == "submitted"
    assert answers_file.questionnaire.id == definition.id
    assert answers_file.questionnaire.version == definition.version
    assert len(answers) == len(answers_file.answers)


def score_example(definition: QuestionnaireDefinition, name: str) -> Any:
    answers = check_answers(definition, example(name).answers, submitting=True)
    return score_answers(definition, {qid: a.value for qid, a in answers.items()})


@pytest.mark.parametrize("name", sorted(EXPECTED_LEVELS))
def test_example_scores_to_its_documented_levels(definition, name):
    result = score_example(definition, name)

    assert result.levels == EXPECTED_LEVELS[name]
    assert result.overall_level == min(EXPECTED_LEVELS[name].values())
    assert result.complete


def test_academic_medical_center_consistency_is_held_back_by_a_gate(definition):
    consistency = score_example(definition, "academic-medical-center").dimension("consistency")

    assert consistency.level == 3
    assert consistency.level_by_score > consistency.level
    holding = [g for g in consistency.failed_gates if g.level == 4]
    assert [g.question_id for g in holding] == ["co_account_inventory"]
    assert "co_account_inventory" in consistency.summary


def test_community_hospital_answers_not_applicable_where_allowed(definition):
    answers = check_answers(definition, example("community-hospital").answers, submitting=True)

    not_applicable = [qid for qid, a in answers.items() if a.value is NA]
    assert not_applicable == ["pr_podcast", "se_vendor_baa"]
