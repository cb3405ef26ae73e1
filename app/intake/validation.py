"""Check answers against the exact questionnaire version they answer.

Pure: no database. Every problem is collected, each naming its field and question id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.errors import FieldError, InvalidAnswers
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
from app.scoring.engine import NA, AnswerValue, missing_required, visible_questions


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

    Returns the answers in questionnaire order. Raises InvalidAnswers listing every
    problem. Stored answers to follow-ups that the new answers hide are dropped; new
    answers to hidden follow-ups are errors.
    """
    index = definition.question_index()
    errors: list[FieldError] = []
    merged: dict[str, Answer] = dict(existing or {})
    given: dict[str, int] = {}
    failed: set[str] = set()  # questions whose new answer has a problem
    for position, item in enumerate(items):
        at = f"{field}[{position}]"
        entry = index.get(item.question_id)
        if entry is None:
            errors.append(
                _error(
                    f"{at}.question_id",
                    item.question_id,
                    "is not a question in this questionnaire version",
                )
            )
            continue
        if item.question_id in given:
            errors.append(
                _error(
                    at,
                    item.question_id,
                    f"is answered twice (also at {field}[{given[item.question_id]}])",
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
                        f"{at}.na", item.question_id, "give either a value or na: true, not both"
                    )
                )
            elif not question.allow_na:
                failed.add(item.question_id)
                errors.append(
                    _error(f"{at}.na", item.question_id, "cannot be answered 'not applicable'")
                )
            else:
                merged[item.question_id] = Answer(NA, item.comment)
            continue
        if item.value is None:
            merged.pop(item.question_id, None)  # neither value nor na: clear the answer
            continue
        value, problem = _check_value(question, item.value)
        if problem is not None:
            failed.add(item.question_id)
            errors.append(_error(f"{at}.value", item.question_id, problem))
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
                )
            )
        del merged[qid]
    if submitting:
        values = {qid: a.value for qid, a in merged.items()}
        for question in missing_required(definition, values):
            if question.id in failed or _depends_on(definition, question.id, failed):
                continue  # its own answer (or one it depends on) is already reported
            errors.append(_error(field, question.id, "is required before submitting"))
    if errors:
        count = len(errors)
        raise InvalidAnswers(
            f"{count} answer{'s do' if count > 1 else ' does'} not fit questionnaire "
            f"{definition.id!r} version {definition.version}.",
            errors=[e.model_dump() for e in errors],
        )
    return dict(sorted(merged.items(), key=lambda kv: index[kv[0]][0]))


def _error(field: str, question_id: str, message: str) -> FieldError:
    return FieldError(field=field, question_id=question_id, message=f"{question_id}: {message}")


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


def _check_value(question: Question, value: Any) -> tuple[Any, str | None]:
    """The value in canonical form and None, or None and the problem."""
    match question:
        case SingleChoiceQuestion(options=options):
            offered = [o.value for o in options]
            if not isinstance(value, str):
                return None, f"expects one option value (one of {', '.join(offered)})"
            if value not in offered:
                return None, f"{value!r} is not an option; choose one of {', '.join(offered)}"
            return value, None
        case MultipleChoiceQuestion(options=options):
            return _check_choices(options, value)
        case YesNoQuestion():
            if not isinstance(value, bool):
                return None, "expects true or false"
            return value, None
        case ScaleQuestion(min=low, max=high):
            if not _is_number(value) or value != int(value):
                return None, f"expects a whole number from {low} to {high}"
            if not low <= value <= high:
                return None, f"{_show(value)} is outside the scale {low} to {high}"
            return int(value), None
        case NumberQuestion(min=low, max=high, integer=integer, unit=unit):
            if not _is_number(value):
                return None, f"expects a number of {unit}"
            if not low <= value <= high:
                return None, f"{_show(value)} is outside {low:g} to {high:g} {unit}"
            if integer:
                if value != int(value):
                    return None, f"expects a whole number of {unit}"
                return int(value), None
            return value, None
        case TextQuestion(max_length=max_length):
            if not isinstance(value, str):
                return None, "expects text"
            if len(value) > max_length:
                return None, f"is {len(value)} characters long; at most {max_length} are kept"
            if not value.strip():
                return None, "is empty; leave the question out instead of sending blank text"
            return value, None
    return None, "cannot be answered"  # pragma: no cover - every type is matched above


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _show(value: float) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        # repr() of a very large int is slow, and fails beyond 4300 digits.
        digits = math.floor(value.bit_length() * math.log10(2)) + 1
        return f"{'a negative' if value < 0 else 'a'} number of about {digits} digits"
    text = repr(value)
    return text if len(text) <= 24 else text[:20] + "..."


def _check_choices(options: Sequence[Any], value: Any) -> tuple[Any, str | None]:
    offered = {o.value: o for o in options}
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, "expects a list of option values"
    unknown = [v for v in value if v not in offered]
    if unknown:
        verb = "is not an option" if len(unknown) == 1 else "are not options"
        listed = ", ".join(map(repr, unknown))
        return None, f"{listed} {verb}; choose from {', '.join(offered)}"
    if len(set(value)) != len(value):
        return None, "lists an option more than once"
    exclusive = [v for v in value if offered[v].exclusive]
    if not value and any(o.exclusive for o in options):
        none = next(o.value for o in options if o.exclusive)
        return None, f"choose at least one option (or {none!r})"
    if exclusive and len(value) > 1:
        return None, f"{exclusive[0]!r} cannot be combined with other options"
    order = list(offered)
    return sorted(value, key=order.index), None
