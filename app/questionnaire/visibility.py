"""Which questions are asked, given the answers so far (a question's ``show_if``).

A definition's conditions are compiled once into a ``Visibility``, so that settling what
is asked is one pass over the follow-ups; the scoring engine, intake, the planner and the
doors all ask it, so a follow-up is asked (and scored) under exactly the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.questionnaire.answers import NA, AnswerValue
from app.questionnaire.schemas import Question, QuestionnaireDefinition, ShowIf


@dataclass(frozen=True, slots=True)
class _FollowUp:
    id: str
    parent: str
    shown_when: Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Visibility:
    """One definition's ``show_if`` conditions, compiled: what is asked for given answers."""

    definition: QuestionnaireDefinition
    # Most questions are always asked; only the follow-ups need a look at the answers.
    always_shown: frozenset[str]
    follow_ups: tuple[_FollowUp, ...]

    def shown(self, answers: Mapping[str, AnswerValue]) -> set[str]:
        """Ids of the questions that are asked, given the answers so far."""
        shown = set(self.always_shown)
        # Follow-ups come after their parents (the loader checks), so one pass settles chains.
        for q in self.follow_ups:
            parent_answer = answers.get(q.parent, NA)
            if q.parent in shown and parent_answer is not NA and q.shown_when(parent_answer):
                shown.add(q.id)
        return shown


_COMPILED: dict[int, Visibility] = {}


def visibility_of(definition: QuestionnaireDefinition) -> Visibility:
    """The definition's compiled conditions, compiled on first use and kept."""
    visibility = _COMPILED.get(id(definition))
    # It holds the definition, so the id cannot be reused while cached.
    if visibility is None or visibility.definition is not definition:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        visibility = _compile(definition)
        _COMPILED[id(definition)] = visibility
    return visibility


def _compile(definition: QuestionnaireDefinition) -> Visibility:
    return Visibility(
        definition=definition,
        always_shown=frozenset(q.id for q in definition.questions if q.show_if is None),
        follow_ups=tuple(
            _FollowUp(q.id, q.show_if.question, _condition(q.show_if))
            for q in definition.questions
            if q.show_if is not None
        ),
    )


def _condition(show_if: ShowIf) -> Callable[[Any], bool]:
    if show_if.equals is not None:
        expected = show_if.equals
        return lambda value: value == expected and type(value) is type(expected)
    if show_if.any_of is not None:
        allowed = frozenset(show_if.any_of)
        return lambda value: value in allowed
    if show_if.includes is not None:
        wanted = show_if.includes
        return lambda value: wanted in value
    threshold = show_if.at_least
    return lambda value: value >= threshold


def visible_questions(
    definition: QuestionnaireDefinition, answers: Mapping[str, AnswerValue]
) -> set[str]:
    """Ids of the questions that are asked, given the answers so far."""
    return visibility_of(definition).shown(answers)


def missing_required(
    definition: QuestionnaireDefinition, answers: Mapping[str, AnswerValue]
) -> list[Question]:
    """Required questions that are asked but have no answer (N/A counts as an answer)."""
    shown = visibility_of(definition).shown(answers)
    return [q for q in definition.questions if q.required and q.id in shown and q.id not in answers]
