"""Gates in words: what answer a level requires, and which gates the report lists.

A gate is stored as "this question must score at least N for level L". A board reader
needs the answer that meets it instead: the option labels, the band or the scale point
whose score reaches N. Everything here is a pure function of the definition and the
answers, so the report states the rule exactly as the engine applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    YesNoQuestion,
)
from app.scoring.results import GateCheck

EN_DASH = "\u2013"


@dataclass(frozen=True, slots=True)
class OpenGate:
    """A gate these answers do not meet, listed once at the lowest level it blocks."""

    level: int
    question_id: str
    prompt: str
    needs: str  # the answer the level requires, in the questionnaire's own words
    today: str  # the answer given, or "Not answered"
    weight: float


def required_answer(question: Question, min_score: float) -> str:
    """The least answer that scores ``min_score`` or more, as the respondent saw it."""
    match question:
        case SingleChoiceQuestion(options=options):
            meeting = sorted((o for o in options if o.score >= min_score), key=lambda o: o.score)
            if not meeting:
                return "An answer this question cannot give"
            label = _sentence(meeting[0].label)
            return label if len(meeting) == 1 else f"At least: {label}"
        case MultipleChoiceQuestion(options=options):
            chosen, total = [], 0.0
            for option in sorted(options, key=lambda o: -o.score):
                if total >= min_score or option.exclusive or option.score <= 0:
                    break
                chosen.append(option.label.rstrip("."))
                total += option.score
            everything = len(chosen) == sum(1 for o in options if o.score > 0 and not o.exclusive)
            if everything:
                return "All of: " + "; ".join(chosen)
            return "At least: " + "; ".join(chosen) + " (or a mix that counts as much)"
        case YesNoQuestion(yes_score=yes, no_score=no):
            if yes >= min_score and no < min_score:
                return "Yes"
            if no >= min_score and yes < min_score:
                return "No"
            return "Yes or No"
        case ScaleQuestion(min=low, max=high, labels=labels):
            span = high - low
            point = next(
                (p for p in range(low, high + 1) if (p - low) * 100.0 / span >= min_score), high
            )
            named = labels.get(point)
            text = f"{point} or more on the scale of {low}{EN_DASH}{high}"
            return f"{text} ({_sentence(named).rstrip('.')})" if named else text
        case NumberQuestion():
            return _number_requirement(question, min_score)
    return "An answer that meets the gate"


def _number_requirement(question: NumberQuestion, min_score: float) -> str:
    """The bands that meet the gate, named by their labels or by their range."""
    bands = list(question.bands)
    meeting = [n for n, b in enumerate(bands) if b.score >= min_score]
    if not meeting:
        return "An answer this question cannot give"
    labels = [bands[n].label for n in meeting]
    if all(labels):
        return "; or ".join(_sentence(label or "").rstrip(".") for label in labels)
    first, last = meeting[0], meeting[-1]
    low = bands[first].at_least
    high = bands[last + 1].at_least if last + 1 < len(bands) else None
    unit = question.unit
    if high is None:
        return f"{low:g} {unit} or more"
    top = high - 1 if question.integer else high
    if low <= question.min:
        return f"{top:g} {unit} or fewer"
    return f"{low:g} to {top:g} {unit}"


def _sentence(label: str) -> str:
    return label.strip()


def open_gates(
    definition: QuestionnaireDefinition, failed: Sequence[GateCheck]
) -> tuple[OpenGate, ...]:
    """The engine's failed gates, each question once, at the lowest level it blocks.

    A question that fails the gates of levels 2, 3 and 4 holds the dimension at level 1;
    listing it three times says nothing more. Its requirement is the lowest level's.
    """
    lowest: dict[str, GateCheck] = {}
    for gate in failed:
        known = lowest.get(gate.question_id)
        if known is None or gate.level < known.level:
            lowest[gate.question_id] = gate
    gates = []
    for gate in lowest.values():
        question = definition.question(gate.question_id)
        gates.append(
            OpenGate(
                level=gate.level,
                question_id=gate.question_id,
                prompt=gate.prompt,
                needs=required_answer(question, gate.min_score) if question else EN_DASH,
                today=gate.answer,
                weight=question.weight if question else 0.0,
            )
        )
    gates.sort(key=lambda g: (g.level, -g.weight))
    return tuple(gates)


@dataclass(frozen=True, slots=True)
class ModelGate:
    """One gate of the model, as the appendix prints it."""

    prompt: str
    needs: str


def model_gates(
    definition: QuestionnaireDefinition, dimension_id: str
) -> tuple[tuple[int, tuple[ModelGate, ...]], ...]:
    """Every gate of a dimension, grouped by level (2 to 5), in questionnaire order."""
    by_level: dict[int, list[ModelGate]] = {}
    for question in definition.questions_in(dimension_id):
        for gate in question.gates:
            by_level.setdefault(gate.level, []).append(
                ModelGate(question.prompt, required_answer(question, gate.min_score))
            )
    return tuple((level, tuple(by_level[level])) for level in sorted(by_level))
