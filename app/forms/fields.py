"""The form's fields, both ways: posted fields read as answers, answers written as fields.

Pure: no database, no web framework. Each question's inputs are named ``q-<id>``; "not
applicable" is the value ``__na__`` (or the checkbox ``q-<id>-na``); its comment is
``q-<id>-comment``. A problem found while reading is a code (the constants below, or
EXCLUSIVE_COMBINED from app.questionnaire.answers), which each door words its own way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.intake.schemas import COMMENT_MAX_LENGTH
from app.questionnaire.answers import EXCLUSIVE_COMBINED, NA, AnswerValue
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    TextQuestion,
    YesNoQuestion,
)
from app.questionnaire.visibility import visible_questions
from app.text import marked, text_problem

NA_VALUE = "__na__"

# Problems with what was typed or chosen, found before intake sees the answer.
INVALID_TEXT = "invalid_text"  # a character that cannot be saved (see app.text)
UNREADABLE_NUMBER = "unreadable_number"
NOT_FINITE_NUMBER = "not_finite_number"
# Problems with a comment.
COMMENT_TOO_LONG = "comment_too_long"
COMMENT_WITHOUT_ANSWER = "comment_without_answer"


@dataclass(frozen=True, slots=True)
class FormAnswer:
    """One answer read from a form, in the shape intake checks (its AnswerItem)."""

    question_id: str
    value: Any = None
    na: bool = False
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedSection:
    """The answers a section's fields give, and the problems found before intake sees them."""

    values: dict[str, AnswerValue | None]  # None: no answer given
    raw: dict[str, list[str]]  # what was typed or chosen, to show it again
    problems: dict[str, str] = field(default_factory=dict)  # question id -> code
    comments: dict[str, str] = field(default_factory=dict)  # as typed, to show it again
    comment_problems: dict[str, str] = field(default_factory=dict)  # question id -> code


def _number(text: str) -> tuple[float | int | None, str | None]:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None, None
    try:
        number = float(cleaned)
    except ValueError:
        return None, UNREADABLE_NUMBER
    if not math.isfinite(number):
        return None, NOT_FINITE_NUMBER
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
                comment_problems[question.id] = COMMENT_TOO_LONG
        given = [v for v in form.get(name, []) if v != ""]
        na = NA_VALUE in given or (question.allow_na and NA_VALUE in form.get(f"{name}-na", []))
        raw[question.id] = given + ([NA_VALUE] if na and NA_VALUE not in given else [])
        if any(text_problem(v) for v in given):
            # Refused as the API refuses it (app.text), and shown back with the spot marked.
            raw[question.id] = [marked(v) for v in raw[question.id]]
            problems[question.id] = INVALID_TEXT
            values[question.id] = None
            continue
        if na:
            values[question.id] = NA
            continue
        value: AnswerValue | None = None
        match question:
            case MultipleChoiceQuestion(options=options):
                value = given or None
                alone = [o for o in options if o.exclusive and o.value in given]
                if alone and len(given) > 1:
                    # Said here, as the checkboxes say it, before the answer is checked.
                    problems[question.id] = EXCLUSIVE_COMBINED
            case YesNoQuestion():
                value = {"yes": True, "no": False}.get(given[0]) if given else None
            case ScaleQuestion():
                value = int(given[0]) if given and given[0].lstrip("-").isdigit() else None
            case NumberQuestion():
                value, problem = _number(given[0] if given else "")
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
    """What a section's fields give intake, and the problems with their comments (codes)."""

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
                comment_problems.setdefault(question.id, COMMENT_WITHOUT_ANSWER)
        elif value is NA:
            items.append(FormAnswer(question.id, na=True, comment=comment))
        else:
            items.append(FormAnswer(question.id, value=value, comment=comment))
    return SectionItems(items, comment_problems)


def field_values(value: AnswerValue | None) -> list[str]:
    """A stored answer as the values its question's fields hold (``[]``: unanswered)."""
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
