"""Properties of the scoring engine over random valid answers to the real v1 questionnaire.

The strategy below walks the questions in order, decides with its own reading of
``show_if`` whether each is asked, and draws a valid answer for it. Scores are recomputed
here from the definition, independently of the engine, where a property needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import combinations
from typing import Any

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from app.config import PROJECT_ROOT
from app.intake.schemas import AnswerIn
from app.intake.validation import check_answers
from app.questionnaire.loader import load_file
from app.questionnaire.rules import is_scored
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from app.scoring.engine import NA, score_answers, visible_questions
from app.scoring.results import AssessmentScore

DEFINITION: QuestionnaireDefinition = load_file(
    PROJECT_ROOT / "questionnaires" / "hospital-social-media" / "v1.yaml"
).definition

Answers = dict[str, Any]


# -- an independent reading of the definition ---------------------------------------------


def is_asked(question: Question, answers: Mapping[str, Any], asked: set[str]) -> bool:
    """Whether a question is asked, given the answers to the questions before it."""
    condition = question.show_if
    if condition is None:
        return True
    if condition.question not in asked or condition.question not in answers:
        return False
    answer = answers[condition.question]
    if answer is NA:
        return False
    if condition.equals is not None:
        return type(answer) is type(condition.equals) and answer == condition.equals
    if condition.any_of is not None:
        return answer in condition.any_of
    if condition.includes is not None:
        return condition.includes in answer
    assert condition.at_least is not None
    return answer >= condition.at_least


def asked_questions(answers: Mapping[str, Any]) -> set[str]:
    asked: set[str] = set()
    for question in DEFINITION.questions:
        if is_asked(question, answers, asked):
            asked.add(question.id)
    return asked


def expected_score(question: Question, value: Any) -> float:
    """A question's 0-100 score, straight from the README's rules."""
    match question:
        case SingleChoiceQuestion(options=options):
            return next(o.score for o in options if o.value == value)
        case MultipleChoiceQuestion(options=options):
            return min(100.0, sum(o.score for o in options if o.value in value))
        case YesNoQuestion(yes_score=yes, no_score=no):
            return yes if value else no
        case ScaleQuestion(min=low, max=high):
            return 100.0 * (value - low) / (high - low)
        case NumberQuestion(bands=bands):
            return [b.score for b in bands if b.at_least <= value][-1]
    raise AssertionError(f"{question.id} is not scored")


def expected_dimension_score(answers: Mapping[str, Any], dimension: str) -> float:
    """Weighted mean of the dimension's asked, answered, applicable scored questions."""
    asked = asked_questions(answers)
    pairs = [
        (question.weight, expected_score(question, answers[question.id]))
        for question in DEFINITION.questions_in(dimension)
        if is_scored(question)
        and question.id in asked
        and question.id in answers
        and answers[question.id] is not NA
    ]
    total = sum(weight for weight, _ in pairs)
    return sum(weight * score for weight, score in pairs) / total if total else 0.0


def all_values(question: Question) -> list[Any]:
    """Every valid answer to a scored question (text excluded)."""
    match question:
        case SingleChoiceQuestion(options=options):
            return [o.value for o in options]
        case MultipleChoiceQuestion(options=options):
            inclusive = [o.value for o in options if not o.exclusive]
            subsets = [
                list(chosen)
                for size in range(len(inclusive) + 1)
                for chosen in combinations(inclusive, size)
            ]
            return subsets + [[o.value] for o in options if o.exclusive]
        case YesNoQuestion():
            return [False, True]
        case ScaleQuestion(min=low, max=high) | NumberQuestion(min=low, max=high):
            assert not isinstance(question, NumberQuestion) or question.integer
            return list(range(int(low), int(high) + 1))
    raise AssertionError(f"{question.id} has no finite list of answers")


def best_value(question: Question) -> Any:
    return max(all_values(question), key=lambda v: expected_score(question, v))


def worst_value(question: Question) -> Any:
    return min(all_values(question), key=lambda v: expected_score(question, v))


# -- strategies --------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(str.strip)


def values_for(question: Question) -> st.SearchStrategy[Any]:
    match question:
        case SingleChoiceQuestion(options=options):
            return st.sampled_from([o.value for o in options])
        case MultipleChoiceQuestion(options=options):
            order = [o.value for o in options]
            # Intake refuses an empty list where an exclusive "none" option exists.
            inclusive = st.lists(
                st.sampled_from([o.value for o in options if not o.exclusive]),
                unique=True,
                min_size=1 if any(o.exclusive for o in options) else 0,
            ).map(lambda chosen: sorted(chosen, key=order.index))
            exclusive = st.sampled_from([[o.value] for o in options if o.exclusive])
            return st.one_of(inclusive, exclusive)
        case YesNoQuestion():
            return st.booleans()
        case ScaleQuestion(min=low, max=high):
            return st.integers(low, high)
        case NumberQuestion(min=low, max=high, integer=True):
            return st.integers(int(low), int(high))
        case NumberQuestion(min=low, max=high):
            return st.floats(low, high, allow_nan=False)
        case TextQuestion(max_length=max_length):
            return TEXT.map(lambda text: text[:max_length])
    raise AssertionError(question)


@st.composite
def answer_sets(
    draw: st.DrawFn,
    *,
    complete: bool = True,
    na: bool = True,
    choose: Callable[[Question], Any] | None = None,
) -> Answers:
    """A valid set of answers: only asked questions, each with a valid value or N/A.

    complete: every asked question is answered (else some are left out, as in a draft).
    choose: picks the value of every scored question instead of drawing it.
    """
    answers: Answers = {}
    asked: set[str] = set()
    for question in DEFINITION.questions:
        if not is_asked(question, answers, asked):
            continue
        asked.add(question.id)
        if not complete and draw(st.integers(0, 3)) == 0:
            continue
        if na and question.allow_na and draw(st.integers(0, 2)) == 0:
            answers[question.id] = NA
        elif choose is not None and is_scored(question):
            answers[question.id] = choose(question)
        else:
            answers[question.id] = draw(values_for(question))
    return answers


complete_answers = answer_sets()
draft_answers = answer_sets(complete=False)
any_answers = st.one_of(complete_answers, draft_answers)


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
