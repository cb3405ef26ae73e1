"""What the form's pages show of questions and answers, and the words for each problem.

Pure: no database, no web framework. Each question's inputs are named ``q-<id>``; radio
and checkbox inputs have ids ``q-<id>-<n>``, text and number inputs ``q-<id>-input``, so
an error can link straight to the first input of its question. Its comment is the
textarea ``q-<id>-comment`` (name and id). Problems arrive as codes (app.forms.fields,
app.forms.service, intake's FieldError codes) and are worded here for the person answering.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.errors import FieldError
from app.forms import fields, service
from app.forms.fields import NA_VALUE
from app.forms.service import MAX_BEDS, FormAnswers, staff_hours_range
from app.intake.schemas import COMMENT_MAX_LENGTH
from app.questionnaire import answers as codes
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    ScaleQuestion,
    SingleChoiceQuestion,
    Source,
    TextQuestion,
    YesNoQuestion,
)

UNANSWERED = "Answer this question, or continue and come back to it before submitting."

INVALID_TEXT_MESSAGE = (
    "This answer contains a character that cannot be saved (a control character, "
    "shown as \N{REPLACEMENT CHARACTER}). Remove it and try again."
)


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
    answers: FormAnswers,
    questions: Iterable[Question],
    *,
    raw: Mapping[str, list[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    comment_errors: Mapping[str, str] | None = None,
) -> list[QuestionView]:
    """The section's questions as pages show them: stored answers, or what was just posted."""
    shown = answers.asked()
    views = []
    for question in questions:
        current = raw.get(question.id) if raw is not None and question.id in raw else None
        if current is None:
            current = answers.field_values(question.id)
        view = _view(question, current, question.id in shown, errors or {})
        view.comment = answers.comments.get(question.id, "")
        view.comment_error = (comment_errors or {}).get(question.id)
        views.append(view)
    return views


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


def problem_text(question: Question, code: str, given: list[str]) -> str:
    """What reading a question's fields found wrong (app.forms.fields codes), in words.

    ``given``: the values posted for the question.
    """
    if code == fields.INVALID_TEXT:
        return INVALID_TEXT_MESSAGE
    if code == codes.EXCLUSIVE_COMBINED and isinstance(question, MultipleChoiceQuestion):
        alone = next(o.label for o in question.options if o.exclusive and o.value in given)
        return (
            f"\N{LEFT DOUBLE QUOTATION MARK}{alone}\N{RIGHT DOUBLE QUOTATION MARK} "
            "cannot be combined with other options: choose it alone, or untick it."
        )
    if isinstance(question, NumberQuestion):
        if code == fields.UNREADABLE_NUMBER:
            return f"Enter a number of {question.unit}, like {int(question.min)}"
        if code == fields.NOT_FINITE_NUMBER:
            return f"Enter a number of {question.unit}"
    return "This answer cannot be read."  # pragma: no cover - every code is worded above


def comment_problem_text(code: str, comment: str) -> str:
    """What is wrong with a comment (app.forms.fields codes), in words."""
    if code == fields.COMMENT_TOO_LONG:
        return (
            f"Keep the comment to {COMMENT_MAX_LENGTH:,} characters or fewer "
            f"(it has {len(comment.strip()):,})."
        )
    return "Answer the question to keep this comment with it."


def _expected(question: Question, code: str) -> str | None:
    """What the question expects, for the codes that say a value has the wrong kind."""
    match question, code:
        case SingleChoiceQuestion(options=options), codes.NOT_ONE_OPTION:
            return f"one option value (one of {', '.join(o.value for o in options)})"
        case MultipleChoiceQuestion(), codes.NOT_OPTION_LIST:
            return "a list of option values"
        case YesNoQuestion(), codes.NOT_BOOLEAN:
            return "true or false"
        case ScaleQuestion(min=low, max=high), codes.NOT_SCALE_POINT:
            return f"a whole number from {low} to {high}"
        case NumberQuestion(unit=unit), codes.NOT_NUMBER:
            return f"a number of {unit}"
        case NumberQuestion(unit=unit), codes.NOT_WHOLE_NUMBER:
            return f"a whole number of {unit}"
        case TextQuestion(), codes.NOT_TEXT:
            return "text"
    return None


def answer_problem_text(question: Question, problem: FieldError) -> str:
    """An intake problem with an answer, as a sentence for the person answering.

    Worded by its code; where the problem is about the value given, intake's own
    description of it (after the question id) follows "This answer".
    """
    if problem.code == codes.REQUIRED:
        return "Answer this question before submitting."
    expected = _expected(question, problem.code or "")
    if expected is not None:
        return f"Enter {expected}."
    detail = problem.message.removeprefix(f"{question.id}: ").strip()
    return f"This answer {detail}."


PROFILE_PROBLEMS = {
    service.UNKNOWN_TYPE: "Choose the type of organization.",
    service.BEDS_MISSING: "Enter the number of licensed beds, for example 120.",
    service.BEDS_INVALID: f"Enter the licensed beds as a whole number from 0 to {MAX_BEDS:,}.",
    service.STAFF_HOURS_INVALID: (
        "Enter the staff hours a month as a whole number from {:,} to {:,}, "
        "or leave it empty.".format(*staff_hours_range())
    ),
}


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
    answers: FormAnswers, questions: Iterable[Question], page_url: str
) -> list[ReviewRow]:
    """Every question these answers ask, with its answer's labels (never the codes)."""
    shown = answers.asked()
    return [
        ReviewRow(
            question.id,
            question.prompt,
            answers.answer_text(question),
            answers.comments.get(question.id),
            question.required,
            f"{page_url}#{field_anchor(question)}",
        )
        for question in questions
        if question.id in shown
    ]
