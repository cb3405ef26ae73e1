"""What an answer is: a value or "not applicable", when it is valid, and how it reads.

The answer model every part shares: intake (answers people send), the roadmap catalogue
(answers an action reaches), the scoring engine, reports, exports and the doors all read
answers through these, so they accept and describe exactly the same values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)


class _NotApplicable:
    """The answer "not applicable": left out of every score and counted as meeting gates."""

    _instance: _NotApplicable | None = None

    def __new__(cls) -> _NotApplicable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NA"


NA: Final = _NotApplicable()

AnswerValue = Any  # str | list[str] | bool | int | float | NA; intake has checked the type


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """Why a value does not answer a question: a stable code and a sentence for people.

    The code lets a door word the problem its own way without reading the sentence.
    """

    code: str
    message: str


# The codes of FieldErrors about answers: first each way a value can fail its question.
NOT_ONE_OPTION = "not_one_option"  # a single choice given something other than a string
UNKNOWN_OPTION = "unknown_option"
NOT_OPTION_LIST = "not_option_list"
REPEATED_OPTION = "repeated_option"
NO_OPTION = "no_option"
EXCLUSIVE_COMBINED = "exclusive_combined"
NOT_BOOLEAN = "not_boolean"
NOT_SCALE_POINT = "not_scale_point"
OUTSIDE_SCALE = "outside_scale"
NOT_NUMBER = "not_number"
OUTSIDE_RANGE = "outside_range"
NOT_WHOLE_NUMBER = "not_whole_number"
NOT_TEXT = "not_text"
TOO_LONG = "too_long"
BLANK_TEXT = "blank_text"
UNANSWERABLE = "unanswerable"
# And the codes of problems with a set of answers (intake's checks).
UNKNOWN_QUESTION = "unknown_question"
ANSWERED_TWICE = "answered_twice"
VALUE_AND_NA = "value_and_na"
NA_NOT_ALLOWED = "na_not_allowed"
NOT_ASKED = "not_asked"
REQUIRED = "required"  # asked, required, and unanswered when submitting


def check_value(question: Question, value: Any) -> tuple[Any, str | None]:
    """The value in canonical form and None, or None and the problem."""
    checked, problem = check_answer_value(question, value)
    return checked, None if problem is None else problem.message


def check_answer_value(question: Question, value: Any) -> tuple[Any, ValueProblem | None]:
    """The value in canonical form and None, or None and the problem with its code."""
    match question:
        case SingleChoiceQuestion(options=options):
            offered = [o.value for o in options]
            if not isinstance(value, str):
                return None, ValueProblem(
                    NOT_ONE_OPTION, f"expects one option value (one of {', '.join(offered)})"
                )
            if value not in offered:
                return None, ValueProblem(
                    UNKNOWN_OPTION,
                    f"{value!r} is not an option; choose one of {', '.join(offered)}",
                )
            return value, None
        case MultipleChoiceQuestion(options=options):
            return _check_choices(options, value)
        case YesNoQuestion():
            if not isinstance(value, bool):
                return None, ValueProblem(NOT_BOOLEAN, "expects true or false")
            return value, None
        case ScaleQuestion(min=low, max=high):
            if not _is_number(value) or value != int(value):
                return None, ValueProblem(
                    NOT_SCALE_POINT, f"expects a whole number from {low} to {high}"
                )
            if not low <= value <= high:
                return None, ValueProblem(
                    OUTSIDE_SCALE, f"{_show(value)} is outside the scale {low} to {high}"
                )
            return int(value), None
        case NumberQuestion(min=low, max=high, integer=integer, unit=unit):
            if not _is_number(value):
                return None, ValueProblem(NOT_NUMBER, f"expects a number of {unit}")
            if not low <= value <= high:
                return None, ValueProblem(
                    OUTSIDE_RANGE, f"{_show(value)} is outside {low:g} to {high:g} {unit}"
                )
            if integer:
                if value != int(value):
                    return None, ValueProblem(NOT_WHOLE_NUMBER, f"expects a whole number of {unit}")
                return int(value), None
            return value, None
        case TextQuestion(max_length=max_length):
            if not isinstance(value, str):
                return None, ValueProblem(NOT_TEXT, "expects text")
            if len(value) > max_length:
                return None, ValueProblem(
                    TOO_LONG, f"is {len(value)} characters long; at most {max_length} are kept"
                )
            if not value.strip():
                return None, ValueProblem(
                    BLANK_TEXT, "is empty; leave the question out instead of sending blank text"
                )
            return value, None
    return None, ValueProblem(
        UNANSWERABLE, "cannot be answered"
    )  # pragma: no cover - every type is matched above


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


def _check_choices(options: Sequence[Any], value: Any) -> tuple[Any, ValueProblem | None]:
    offered = {o.value: o for o in options}
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None, ValueProblem(NOT_OPTION_LIST, "expects a list of option values")
    unknown = [v for v in value if v not in offered]
    if unknown:
        verb = "is not an option" if len(unknown) == 1 else "are not options"
        listed = ", ".join(map(repr, unknown))
        return None, ValueProblem(
            UNKNOWN_OPTION, f"{listed} {verb}; choose from {', '.join(offered)}"
        )
    if len(set(value)) != len(value):
        return None, ValueProblem(REPEATED_OPTION, "lists an option more than once")
    exclusive = [v for v in value if offered[v].exclusive]
    if not value and any(o.exclusive for o in options):
        none = next(o.value for o in options if o.exclusive)
        return None, ValueProblem(NO_OPTION, f"choose at least one option (or {none!r})")
    if exclusive and len(value) > 1:
        return None, ValueProblem(
            EXCLUSIVE_COMBINED, f"{exclusive[0]!r} cannot be combined with other options"
        )
    order = list(offered)
    return sorted(value, key=order.index), None


def describe_answer(question: Question, value: AnswerValue) -> str:
    """An answer in words, as a report shows it."""
    return describer(question)(value)


def describer(question: Question) -> Callable[[AnswerValue], str]:
    """The function that puts answers to ``question`` in words, for callers that describe many."""
    not_applicable = question.na_label or "Not applicable"
    match question:
        case SingleChoiceQuestion(options=options) | MultipleChoiceQuestion(options=options):
            labels = {o.value: o.label for o in options}
            if isinstance(question, SingleChoiceQuestion):
                return lambda value: not_applicable if value is NA else labels[value]
            return lambda value: (
                not_applicable
                if value is NA
                else "; ".join(labels[v] for v in value) or "None selected"
            )
        case YesNoQuestion():
            return lambda value: (
                not_applicable if value is NA else ("Yes" if value is True else "No")
            )
        case ScaleQuestion(min=low, max=high, labels=points):
            named = {p: f" ({label})" for p, label in points.items()}
            return lambda value: (
                not_applicable if value is NA else f"{value} of {low}-{high}{named.get(value, '')}"
            )
        case NumberQuestion(unit=unit):
            return lambda value: not_applicable if value is NA else f"{value:g} {unit}"
        case _:
            return lambda value: not_applicable if value is NA else str(value)
