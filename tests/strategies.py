"""Hypothesis strategies for valid answer sets to the real v1 questionnaire.

The strategies walk the questions in order, decide with their own reading of ``show_if``
whether each is asked, and draw a valid answer for it. Scores are recomputed here from
the definition, independently of the engine, where a property needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import combinations
from typing import Any

from hypothesis import strategies as st

from app.config import PROJECT_ROOT
from app.questionnaire.answers import NA
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
            smallest = 1 if any(o.exclusive for o in options) else 0  # [] means "none" then
            subsets = [
                list(chosen)
                for size in range(smallest, len(inclusive) + 1)
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

# Any text (app.text): everything but surrogates, NUL and the C0 controls bar tab and breaks.
TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r"),
    ),
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
