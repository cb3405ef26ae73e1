"""Properties of the scoring engine over random valid answers to the real v1 questionnaire.

The strategies in tests/strategies.py walk the questions in order, decide with their own
reading of ``show_if`` whether each is asked, and draw a valid answer for it. Scores are
recomputed there from the definition, independently of the engine, where a property
needs them.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from app.intake.schemas import AnswerIn
from app.intake.validation import check_answers
from app.questionnaire.answers import NA
from app.questionnaire.rules import is_scored
from app.questionnaire.visibility import visible_questions
from app.scoring.engine import score_answers
from app.scoring.results import AssessmentScore
from tests.strategies import (
    DEFINITION,
    Answers,
    all_values,
    answer_sets,
    any_answers,
    asked_questions,
    best_value,
    complete_answers,
    draft_answers,
    expected_dimension_score,
    expected_score,
    worst_value,
)


def scored_answered(answers: Answers) -> list[str]:
    asked = asked_questions(answers)
    return [
        qid
        for qid, value in answers.items()
        if value is not NA and qid in asked and is_scored(DEFINITION.question(qid))
    ]


def score(answers: Answers) -> AssessmentScore:
    return score_answers(DEFINITION, answers)


# -- the strategy itself produces what intake accepts ---------------------------------------


def as_items(answers: Answers) -> list[AnswerIn]:
    return [
        AnswerIn(question_id=qid, na=True)
        if value is NA
        else AnswerIn(question_id=qid, value=value)
        for qid, value in answers.items()
    ]


@given(complete_answers)
def test_generated_complete_answers_pass_intake_on_submit_unchanged(answers):
    items = as_items(answers)

    checked = check_answers(DEFINITION, items, submitting=True)

    assert {qid: a.value for qid, a in checked.items()} == answers


@given(draft_answers)
def test_generated_draft_answers_pass_intake_as_a_draft(answers):
    items = as_items(answers)

    checked = check_answers(DEFINITION, items)

    assert list(checked) == list(answers)


@given(any_answers)
def test_engine_asks_the_questions_the_show_if_rules_say(answers):
    assert visible_questions(DEFINITION, answers) == asked_questions(answers)


# -- properties from DESIGN.md "Scoring semantics" ---------------------------------------


@given(any_answers)
def test_every_score_and_level_stays_within_bounds(answers):
    result = score(answers)

    assert 1 <= result.overall_level <= 5
    assert 0 <= result.overall_score <= 100
    for dimension in result.dimensions:
        assert 0 <= dimension.score <= 100
        assert 1 <= dimension.level <= dimension.level_by_score <= 5
        assert dimension.level_name == DEFINITION.level_name(dimension.level)
        assert (dimension.next_level is None) == (dimension.level == 5)


@given(any_answers, st.randoms(use_true_random=False))
def test_the_order_of_answers_does_not_matter(answers, random):
    items = list(answers.items())
    random.shuffle(items)
    shuffled = dict(items)
    note(f"order: {list(shuffled)}")

    assert score(shuffled).to_dict() == score(answers).to_dict()


@given(any_answers)
def test_dimension_score_is_the_weighted_mean_of_answered_applicable_questions(answers):
    result = score(answers)

    for dimension in result.dimensions:
        expected = expected_dimension_score(answers, dimension.dimension_id)
        assert dimension.score == pytest.approx(expected, abs=0.05 + 1e-9)


@given(any_answers, st.data())
def test_raising_one_answer_never_lowers_a_score_or_level(answers, data):
    candidates = scored_answered(answers)
    assume(candidates)
    qid = data.draw(st.sampled_from(candidates), label="question")
    question = DEFINITION.question(qid)
    current = expected_score(question, answers[qid])
    better = [v for v in all_values(question) if expected_score(question, v) >= current]
    value = data.draw(st.sampled_from(better), label="raised to")

    raised = {**answers, qid: value}
    asked = asked_questions(raised)
    hidden = [q for q in raised if q not in asked]
    # A better answer may hide a free-text follow-up, never a scored one; intake drops it.
    assert [q for q in hidden if is_scored(DEFINITION.question(q))] == []
    for q in hidden:
        del raised[q]

    before, after = score(answers), score(raised)

    assert after.overall_level >= before.overall_level
    assert after.overall_score >= before.overall_score
    for old, new in zip(before.dimensions, after.dimensions, strict=True):
        assert new.score >= old.score, old.dimension_id
        assert new.level_by_score >= old.level_by_score, old.dimension_id
        assert new.level >= old.level, old.dimension_id


@given(answer_sets(choose=best_value))
def test_best_answers_give_level_5_everywhere(answers):
    result = score(answers)

    assert result.levels == {"presence": 5, "consistency": 5, "security": 5}
    assert result.overall_level == 5
    assert all(d.failed_gates == () for d in result.dimensions)
    assert all(d.score == 100 for d in result.dimensions if d.answered)


def test_best_answers_to_every_question_asked_reach_100_everywhere():
    answers: Answers = {}
    for question in DEFINITION.questions:
        if question.id in asked_questions(answers) and is_scored(question):
            answers[question.id] = best_value(question)

    result = score(answers)

    assert result.levels == {"presence": 5, "consistency": 5, "security": 5}
    assert [d.score for d in result.dimensions] == [100, 100, 100]
    assert result.overall_score == 100
    # Best answers open every scored follow-up.
    assert set(answers) == {q.id for q in DEFINITION.questions if is_scored(q)}


@given(answer_sets(choose=worst_value, na=False))
def test_worst_answers_give_level_1_everywhere(answers):
    result = score(answers)

    assert result.levels == {"presence": 1, "consistency": 1, "security": 1}
    assert result.overall_level == 1
    assert all(d.score == 0 for d in result.dimensions)


@given(any_answers, st.data())
def test_not_applicable_is_left_out_of_the_dimension_score(answers, data):
    allowing = [
        q.id
        for q in DEFINITION.questions
        if q.allow_na and q.id in asked_questions(answers) and answers.get(q.id) is not NA
    ]
    assume(allowing)
    qid = data.draw(st.sampled_from(allowing), label="marked N/A")
    marked = {**answers, qid: NA}
    dimension = DEFINITION.question(qid).dimension

    # Computed here by hand: the weighted mean of the other answered scored questions.
    pairs = [
        (q.weight, expected_score(q, marked[q.id]))
        for q in DEFINITION.questions_in(dimension)
        if is_scored(q)
        and q.id in marked
        and marked[q.id] is not NA
        and q.id in asked_questions(marked)
    ]
    total = sum(w for w, _ in pairs)
    expected = sum(w * s for w, s in pairs) / total if total else 0.0

    result = score(marked).dimension(dimension)

    assert result.score == pytest.approx(expected, abs=0.05 + 1e-9)
    assert result.applicable == score(answers).dimension(dimension).applicable - 1
    assert all(g.question_id != qid for g in result.failed_gates)
