"""Between HTML forms and answers: parse posted fields, and build what a page shows.

Pure: no database, no web framework. Each question's inputs are named ``q-<id>``; radio
and checkbox inputs have ids ``q-<id>-<n>``, text and number inputs ``q-<id>-input``, so
an error can link straight to the first input of its question.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    Source,
    TextQuestion,
    YesNoQuestion,
)
from app.scoring.engine import NA, AnswerValue, visible_questions

NA_VALUE = "__na__"


@dataclass(frozen=True, slots=True)
class FormAnswer:
    """One answer read from a form, in the shape intake checks (its AnswerItem)."""

    question_id: str
    value: Any = None
    na: bool = False
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One radio button or checkbox."""

    input_id: str
    value: str
    label: str
    checked: bool
    exclusive: bool = False


@dataclass(slots=True)
class QuestionView:
    """A question as its page shows it."""

    id: str
    kind: str  # "choice" (radios), "multiple" (checkboxes), "number" or "text"
    prompt: str
    help: str
    required: bool
    visible: bool
    choices: tuple[Choice, ...] = ()
    text: str = ""
    unit: str = ""
    max_length: int = 0
    number_hint: str = ""
    na_label: str | None = None
    na_checked: bool = False
    error: str | None = None
    show_if: str | None = None  # JSON of the condition, for the page's script
    sources: tuple[Source, ...] = ()  # where the help text's rules and facts are published
    identifier_warning: str | None = None  # saved text that looks like a patient identifier

    @property
    def first_input_id(self) -> str:
        """Where a link to this question should land."""
        return self.choices[0].input_id if self.choices else f"q-{self.id}-input"

    @property
    def na_input_id(self) -> str:
        return f"q-{self.id}-na"


@dataclass(frozen=True, slots=True)
class ParsedSection:
    """The answers a section's form gives, and the problems found before intake sees them."""

    values: dict[str, AnswerValue | None]  # None: no answer given
    raw: dict[str, list[str]]  # what was typed or chosen, to show it again
    problems: dict[str, str] = field(default_factory=dict)


def _number(text: str, question: NumberQuestion) -> tuple[float | int | None, str | None]:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None, None
    try:
        number = float(cleaned)
    except ValueError:
        return None, f"Enter a number of {question.unit}, like {int(question.min)}"
    if not math.isfinite(number):
        return None, f"Enter a number of {question.unit}"
    return (int(number) if number == int(number) else number), None


def parse_section(questions: Sequence[Question], form: Mapping[str, list[str]]) -> ParsedSection:
    """Read each question's answer from posted fields (``form``: name -> every value)."""
    values: dict[str, AnswerValue | None] = {}
    raw: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    for question in questions:
        name = f"q-{question.id}"
        given = [v for v in form.get(name, []) if v != ""]
        na = NA_VALUE in given or (question.allow_na and NA_VALUE in form.get(f"{name}-na", []))
        raw[question.id] = given + ([NA_VALUE] if na and NA_VALUE not in given else [])
        if na:
            values[question.id] = NA
            continue
        value: AnswerValue | None = None
        match question:
            case MultipleChoiceQuestion():
                value = given or None
            case YesNoQuestion():
                value = {"yes": True, "no": False}.get(given[0]) if given else None
            case ScaleQuestion():
                value = int(given[0]) if given and given[0].lstrip("-").isdigit() else None
            case NumberQuestion():
                value, problem = _number(given[0] if given else "", question)
                if problem:
                    problems[question.id] = problem
            case TextQuestion():
                text = given[0] if given else ""
                value = text if text.strip() else None
            case _:
                value = given[0] if given else None
        values[question.id] = value
    return ParsedSection(values, raw, problems)


def section_items(
    definition: QuestionnaireDefinition,
    questions: Sequence[Question],
    parsed: ParsedSection,
    stored: Mapping[str, AnswerValue],
) -> list[FormAnswer]:
    """Intake items for a section: its answers, with hidden follow-ups cleared.

    A follow-up whose condition no longer holds may still post a value (its inputs are
    only hidden), so visibility is judged on the merged answers and hidden ones cleared.
    """
    merged: dict[str, AnswerValue] = dict(stored)
    for qid, value in parsed.values.items():
        if value is None:
            merged.pop(qid, None)
        else:
            merged[qid] = value
    shown = visible_questions(definition, merged)
    items = []
    for question in questions:
        value = parsed.values.get(question.id)
        if question.id not in shown or value is None or question.id in parsed.problems:
            items.append(FormAnswer(question.id))
        elif value is NA:
            items.append(FormAnswer(question.id, na=True))
        else:
            items.append(FormAnswer(question.id, value=value))
    return items


def _show_if_json(question: Question) -> str | None:
    condition = question.show_if
    if condition is None:
        return None
    for operator in ("equals", "any_of", "includes", "at_least"):
        operand = getattr(condition, operator)
        if operand is not None:
            data = {
                "question": condition.question,
                "op": operator,
                "value": list(operand) if isinstance(operand, tuple) else operand,
            }
            return json.dumps(data)
    return None


def question_views(
    definition: QuestionnaireDefinition,
    questions: Iterable[Question],
    answers: Mapping[str, AnswerValue],
    *,
    raw: Mapping[str, list[str]] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[QuestionView]:
    """The section's questions as pages show them: stored answers, or what was just posted."""
    shown = visible_questions(definition, answers)
    views = []
    for question in questions:
        current = raw.get(question.id) if raw is not None and question.id in raw else None
        if current is None:
            current = _as_raw(question, answers.get(question.id))
        views.append(_view(question, current, question.id in shown, errors or {}))
    return views


def _as_raw(question: Question, value: AnswerValue | None) -> list[str]:
    if value is None:
        return []
    if value is NA:
        return [NA_VALUE]
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, float) and value == int(value):
        return [str(int(value))]
    return [str(value)]


def _view(
    question: Question, current: list[str], visible: bool, errors: Mapping[str, str]
) -> QuestionView:
    prefix = f"q-{question.id}"
    options: list[tuple[str, str, bool]] = []
    kind = "choice"
    match question:
        case SingleChoiceQuestion(options=opts):
            options = [(o.value, o.label, False) for o in opts]
        case MultipleChoiceQuestion(options=opts):
            kind = "multiple"
            options = [(o.value, o.label, o.exclusive) for o in opts]
        case YesNoQuestion():
            options = [("yes", "Yes", False), ("no", "No", False)]
        case ScaleQuestion(min=low, max=high, labels=labels):
            options = [
                (str(p), f"{p}" + (f" \N{EN DASH} {labels[p]}" if p in labels else ""), False)
                for p in range(low, high + 1)
            ]
        case NumberQuestion():
            kind = "number"
        case TextQuestion():
            kind = "text"
    na_label = (question.na_label or "Not applicable") if question.allow_na else None
    if na_label and kind in ("choice", "multiple") and kind == "choice":
        options.append((NA_VALUE, na_label, False))
    choices = tuple(
        Choice(f"{prefix}-{n}", value, label, value in current, exclusive)
        for n, (value, label, exclusive) in enumerate(options)
    )
    view = QuestionView(
        id=question.id,
        kind=kind,
        prompt=question.prompt,
        help=question.help,
        required=question.required,
        visible=visible,
        choices=choices,
        na_label=na_label if kind in ("multiple", "number", "text") else None,
        na_checked=NA_VALUE in current,
        error=errors.get(question.id),
        show_if=_show_if_json(question),
        sources=question.sources,
    )
    if isinstance(question, NumberQuestion):
        view.unit = question.unit
        view.number_hint = f"A number from {question.min:g} to {question.max:g} {question.unit}."
        view.text = next((v for v in current if v != NA_VALUE), "")
    if isinstance(question, TextQuestion):
        view.max_length = question.max_length
        view.text = next((v for v in current if v != NA_VALUE), "")
    return view


def friendly_message(message: str, question_id: str) -> str:
    """An intake message (``<id>: expects ...``) as a sentence for the person answering."""
    text = message.removeprefix(f"{question_id}: ").strip()
    if text.startswith("expects "):
        return "Enter " + text.removeprefix("expects ") + "."
    if text == "is required before submitting":
        return "Answer this question before submitting."
    return "This answer " + text + "."
