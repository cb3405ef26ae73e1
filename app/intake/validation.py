"""Check answers against the exact questionnaire version they answer.

Pure: no database. Every problem is collected, each naming its field and question id,
with a code (from app.questionnaire.answers) for a door that words problems its own way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.errors import FieldError, InvalidAnswers
from app.questionnaire.answers import (
    ANSWERED_TWICE,
    NA,
    NA_NOT_ALLOWED,
    NOT_ASKED,
    REQUIRED,
    UNKNOWN_QUESTION,
    VALUE_AND_NA,
    AnswerValue,
    check_answer_value,
)
from app.questionnaire.schemas import (
    Question,
    QuestionnaireDefinition,
)
from app.questionnaire.visibility import visible_questions


class AnswerProblems(InvalidAnswers):
    """InvalidAnswers that also keeps each problem as a FieldError, code included.

    The JSON body is InvalidAnswers' own (codes are internal); ``problems`` is for a door
    that shows its own text for each code.
    """

    def __init__(self, detail: str, *, problems: Sequence[FieldError] = (), **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Answer:
    """A checked answer: a value or NA, and an optional comment."""

    value: AnswerValue
    comment: str | None = None


class AnswerItem(Protocol):
    """What intake reads from a request item (the API's AnswerIn has this shape)."""

    @property
    def question_id(self) -> str: ...
    @property
    def value(self) -> Any: ...
    @property
    def na(self) -> bool: ...
    @property
    def comment(self) -> str | None: ...


def check_answers(
    definition: QuestionnaireDefinition,
    items: Sequence[AnswerItem],
    *,
    existing: Mapping[str, Answer] | None = None,
    submitting: bool = False,
    field: str = "answers",
) -> dict[str, Answer]:
    """Merge ``items`` over ``existing`` answers and check the result.

    Returns the answers in questionnaire order. Raises AnswerProblems (an InvalidAnswers)
    listing every problem. Stored answers to follow-ups that the new answers hide are
    dropped; new answers to hidden follow-ups are errors.
    """
    index = definition.question_index()
    errors: list[FieldError] = []
    merged: dict[str, Answer] = dict(existing or {})
    given: dict[str, int] = {}
    failed: set[str] = set()  # questions whose new answer has a problem
    for position, item in enumerate(items):
        at = _Place(field, position)
        entry = index.get(item.question_id)
        if entry is None:
            errors.append(
                _error(
                    f"{at}.question_id",
                    item.question_id,
                    "is not a question in this questionnaire version",
                    UNKNOWN_QUESTION,
                )
            )
            continue
        if item.question_id in given:
            errors.append(
                _error(
                    at,
                    item.question_id,
                    f"is answered twice (also at {field}[{given[item.question_id]}])",
                    ANSWERED_TWICE,
                )
            )
            continue
        given[item.question_id] = position
        question = entry[1]
        if item.na:
            if item.value is not None:
                failed.add(item.question_id)
                errors.append(
                    _error(
                        f"{at}.na",
                        item.question_id,
                        "give either a value or na: true, not both",
                        VALUE_AND_NA,
                    )
                )
            elif not question.allow_na:
                failed.add(item.question_id)
                errors.append(
                    _error(
                        f"{at}.na",
                        item.question_id,
                        "cannot be answered 'not applicable'",
                        NA_NOT_ALLOWED,
                    )
                )
            else:
                merged[item.question_id] = Answer(NA, item.comment)
            continue
        if item.value is None:
            merged.pop(item.question_id, None)  # neither value nor na: clear the answer
            continue
        value, problem = check_answer_value(question, item.value)
        if problem is not None:
            failed.add(item.question_id)
            errors.append(_error(f"{at}.value", item.question_id, problem.message, problem.code))
        else:
            merged[item.question_id] = Answer(value, item.comment)

    values = {qid: a.value for qid, a in merged.items()}
    shown = visible_questions(definition, values)
    for qid in [q for q in merged if q not in shown]:
        # Whether it is asked cannot be judged while an answer it depends on is wrong.
        if qid in given and not _depends_on(definition, qid, failed):
            question = index[qid][1]
            errors.append(
                _error(
                    f"{field}[{given[qid]}]",
                    qid,
                    f"is not asked with these answers: {_condition_text(definition, question)}",
                    NOT_ASKED,
                )
            )
        del merged[qid]
    if submitting:
        # Removing hidden answers cannot reveal anything: `shown` still holds.
        missing = [
            q for q in definition.questions if q.required and q.id in shown and q.id not in merged
        ]
        for question in missing:
            if question.id in failed or _depends_on(definition, question.id, failed):
                continue  # its own answer (or one it depends on) is already reported
            errors.append(_error(field, question.id, "is required before submitting", REQUIRED))
    if errors:
        count = len(errors)
        raise AnswerProblems(
            f"{count} answer{'s do' if count > 1 else ' does'} not fit questionnaire "
            f"{definition.id!r} version {definition.version}.",
            problems=errors,
            errors=[e.model_dump() for e in errors],
        )
    return dict(sorted(merged.items(), key=lambda kv: index[kv[0]][0]))


class _Place:
    """Where an item sits in the request, spelled out only when there is a problem to name."""

    __slots__ = ("field", "position")

    def __init__(self, field: str, position: int) -> None:
        self.field = field
        self.position = position

    def __str__(self) -> str:
        return f"{self.field}[{self.position}]"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _error(field: str | _Place, question_id: str, message: str, code: str) -> FieldError:
    return FieldError(
        field=str(field), question_id=question_id, message=f"{question_id}: {message}", code=code
    )


def _depends_on(definition: QuestionnaireDefinition, question_id: str, ids: set[str]) -> bool:
    """Whether the question is a follow-up (at any depth) of one of ``ids``."""
    question = definition.question(question_id)
    while question is not None and question.show_if is not None:
        if question.show_if.question in ids:
            return True
        question = definition.question(question.show_if.question)
    return False


def _condition_text(definition: QuestionnaireDefinition, question: Question) -> str:
    condition = question.show_if
    assert condition is not None  # noqa: S101 - only hidden follow-ups get here
    for name in ("equals", "any_of", "includes", "at_least"):
        operand = getattr(condition, name)
        if operand is not None:
            return (
                f"it is asked only when {condition.question} {name.replace('_', ' ')} {operand!r}"
            )
    return "its condition does not hold"
