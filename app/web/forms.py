"""Between HTML forms and answers: parse posted fields, and build what a page shows.

Pure: no database, no web framework. Each question's inputs are named ``q-<id>``; radio
and checkbox inputs have ids ``q-<id>-<n>``, text and number inputs ``q-<id>-input``, so
an error can link straight to the first input of its question. Its comment is the
textarea ``q-<id>-comment`` (name and id).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.intake.schemas import COMMENT_MAX_LENGTH
from app.questionnaire.answers import NA, AnswerValue, describe_answer
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
from app.questionnaire.visibility import missing_required, visible_questions
from app.text import marked, text_problem

NA_VALUE = "__na__"
UNANSWERED = "Answer this question, or continue and come back to it before submitting."

INVALID_TEXT_MESSAGE = (
    "This answer contains a character that cannot be saved (a control character, "
    "shown as \N{REPLACEMENT CHARACTER}). Remove it and try again."
)


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
    comment: str = ""
    comment_error: str | None = None
    comment_max_length: int = COMMENT_MAX_LENGTH
    sources: tuple[Source, ...] = ()  # where the help text's rules and facts are published
    evidence: str | None = None  # what a reviewer would ask to see to confirm the answer
    identifier_warning: str | None = None  # saved text that looks like a patient identifier

    @property
    def first_input_id(self) -> str:
        """Where a link to this question should land."""
        return self.choices[0].input_id if self.choices else f"q-{self.id}-input"

    @property
    def comment_input_id(self) -> str:
        return f"q-{self.id}-comment"

    @property
    def na_input_id(self) -> str:
        return f"q-{self.id}-na"


@dataclass(frozen=True, slots=True)
class ParsedSection:
    """The answers a section's form gives, and the problems found before intake sees them."""

    values: dict[str, AnswerValue | None]  # None: no answer given
    raw: dict[str, list[str]]  # what was typed or chosen, to show it again
    problems: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)  # as typed, to show it again
    comment_problems: dict[str, str] = field(default_factory=dict)


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
    comments: dict[str, str] = {}
    comment_problems: dict[str, str] = {}
    for question in questions:
        name = f"q-{question.id}"
        comment = (form.get(f"{name}-comment") or [""])[0]
        if comment.strip():
            comments[question.id] = comment
            if len(comment.strip()) > COMMENT_MAX_LENGTH:
                comment_problems[question.id] = (
                    f"Keep the comment to {COMMENT_MAX_LENGTH:,} characters or fewer "
                    f"(it has {len(comment.strip()):,})."
                )
        given = [v for v in form.get(name, []) if v != ""]
        na = NA_VALUE in given or (question.allow_na and NA_VALUE in form.get(f"{name}-na", []))
        raw[question.id] = given + ([NA_VALUE] if na and NA_VALUE not in given else [])
        if any(text_problem(v) for v in given):
            # Refused as the API refuses it (app.text), and shown back with the spot marked.
            raw[question.id] = [marked(v) for v in raw[question.id]]
            problems[question.id] = INVALID_TEXT_MESSAGE
            values[question.id] = None
            continue
        if na:
            values[question.id] = NA
            continue
        value: AnswerValue | None = None
        match question:
            case MultipleChoiceQuestion(options=options):
                value = given or None
                alone = [o.label for o in options if o.exclusive and o.value in given]
                if alone and len(given) > 1:
                    problems[question.id] = (
                        f"\N{LEFT DOUBLE QUOTATION MARK}{alone[0]}\N{RIGHT DOUBLE QUOTATION MARK} "
                        "cannot be combined with other options: choose it alone, or untick it."
                    )
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
    return ParsedSection(values, raw, problems, comments, comment_problems)


@dataclass(frozen=True, slots=True)
class SectionItems:
    """What a section's form gives intake, and the problems with its comments."""

    items: list[FormAnswer]
    comment_problems: dict[str, str]


def section_items(
    definition: QuestionnaireDefinition,
    questions: Sequence[Question],
    parsed: ParsedSection,
    stored: Mapping[str, AnswerValue],
) -> SectionItems:
    """Intake items for a section: its answers, with hidden follow-ups cleared.

    A follow-up whose condition no longer holds may still post a value (its inputs are
    only hidden), so visibility is judged on the merged answers and hidden ones cleared.
    A comment is kept with its answer, as the API keeps it, so a comment on an asked
    question left unanswered is a problem to show rather than text to drop.
    """
    merged: dict[str, AnswerValue] = dict(stored)
    for qid, value in parsed.values.items():
        if value is None:
            merged.pop(qid, None)
        else:
            merged[qid] = value
    shown = visible_questions(definition, merged)
    items = []
    comment_problems = dict(parsed.comment_problems)
    for question in questions:
        value = parsed.values.get(question.id)
        comment = parsed.comments.get(question.id, "").strip() or None
        if question.id not in shown or value is None or question.id in parsed.problems:
            items.append(FormAnswer(question.id))
            if comment and question.id in shown and question.id not in parsed.problems:
                comment_problems.setdefault(
                    question.id, "Answer the question to keep this comment with it."
                )
        elif value is NA:
            items.append(FormAnswer(question.id, na=True, comment=comment))
        else:
            items.append(FormAnswer(question.id, value=value, comment=comment))
    return SectionItems(items, comment_problems)


def unanswered_required(
    definition: QuestionnaireDefinition,
    questions: Sequence[Question],
    answers: Mapping[str, AnswerValue],
) -> list[str]:
    """Ids of this page's required questions (follow-ups included) asked but not answered."""
    on_page = {q.id for q in questions}
    return [q.id for q in missing_required(definition, answers) if q.id in on_page]


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
    comments: Mapping[str, str] | None = None,
    comment_errors: Mapping[str, str] | None = None,
) -> list[QuestionView]:
    """The section's questions as pages show them: stored answers, or what was just posted."""
    shown = visible_questions(definition, answers)
    views = []
    for question in questions:
        current = raw.get(question.id) if raw is not None and question.id in raw else None
        if current is None:
            current = _as_raw(question, answers.get(question.id))
        view = _view(question, current, question.id in shown, errors or {})
        view.comment = (comments or {}).get(question.id, "")
        view.comment_error = (comment_errors or {}).get(question.id)
        views.append(view)
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
        evidence=question.evidence,
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


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One asked question on the review page: its answer in words, and where to change it."""

    question_id: str
    prompt: str
    answer: str | None  # None: not answered
    comment: str | None
    required: bool
    change_url: str

    @property
    def missing(self) -> bool:
        """A required question still without an answer (it stops the submission)."""
        return self.required and self.answer is None


def field_anchor(question: Question) -> str:
    """The id of a question's first input, where a link to change its answer lands."""
    if isinstance(question, NumberQuestion | TextQuestion):
        return f"q-{question.id}-input"
    return f"q-{question.id}-0"


def review_rows(
    definition: QuestionnaireDefinition,
    questions: Iterable[Question],
    answers: Mapping[str, AnswerValue],
    comments: Mapping[str, str],
    page_url: str,
) -> list[ReviewRow]:
    """Every question these answers ask, with its answer's labels (never the codes)."""
    shown = visible_questions(definition, answers)
    return [
        ReviewRow(
            question.id,
            question.prompt,
            describe_answer(question, answers[question.id]) if question.id in answers else None,
            comments.get(question.id),
            question.required,
            f"{page_url}#{field_anchor(question)}",
        )
        for question in questions
        if question.id in shown
    ]
