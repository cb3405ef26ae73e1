"""The scoring engine (see README "How scoring works" for the rules in plain words).

A definition is compiled once into a ``_Plan`` of small closures and tuples, so that
scoring one assessment is a single pass over the questions with no validation and no
allocation beyond the result.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from app.questionnaire.answers import NA, AnswerValue, describer
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    OverallMethod,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from app.questionnaire.visibility import Visibility, visibility_of
from app.scoring.results import (
    AnswerNote,
    AssessmentScore,
    DimensionScore,
    GateCheck,
    NextLevel,
)

ENGINE_VERSION: Final = "1.0.0"
NOTES_PER_SIDE: Final = 3


@dataclass(frozen=True, slots=True)
class _Gate:
    level: int
    min_score: float


@dataclass(frozen=True, slots=True)
class _QuestionPlan:
    id: str
    question: Question
    dimension: int
    weight: float
    scored: bool
    score: Callable[[Any], float]
    gates: tuple[_Gate, ...]
    describe: Callable[[Any], str]


@dataclass(frozen=True, slots=True)
class _Plan:
    definition: QuestionnaireDefinition
    questions: tuple[_QuestionPlan, ...]
    thresholds: tuple[tuple[float, ...], ...]
    visibility: Visibility
    scored_by_dimension: tuple[tuple[_QuestionPlan, ...], ...]


_PLANS: dict[int, _Plan] = {}


def _plan_for(definition: QuestionnaireDefinition) -> _Plan:
    plan = _PLANS.get(id(definition))
    # The plan holds the definition, so its id cannot be reused while cached.
    if plan is None or plan.definition is not definition:
        if len(_PLANS) > 256:
            _PLANS.clear()
        plan = _compile(definition)
        _PLANS[id(definition)] = plan
    return plan


def _compile(definition: QuestionnaireDefinition) -> _Plan:
    dimension_index = {d.id: i for i, d in enumerate(definition.dimensions)}
    questions = tuple(
        _QuestionPlan(
            id=q.id,
            question=q,
            dimension=dimension_index[q.dimension],
            weight=q.weight,
            scored=not isinstance(q, TextQuestion) and q.weight > 0,
            score=_score_function(q),
            gates=tuple(_Gate(g.level, g.min_score) for g in q.gates),
            describe=describer(q),
        )
        for q in definition.questions
    )
    thresholds = tuple(d.thresholds.as_tuple() for d in definition.dimensions)
    by_dimension = tuple(
        tuple(q for q in questions if q.scored and q.dimension == d)
        for d in range(len(definition.dimensions))
    )
    return _Plan(definition, questions, thresholds, visibility_of(definition), by_dimension)


def _score_function(question: Question) -> Callable[[Any], float]:
    match question:
        case SingleChoiceQuestion(options=options):
            scores = {o.value: o.score for o in options}
            return scores.__getitem__
        case MultipleChoiceQuestion(options=options):
            scores = {o.value: o.score for o in options}
            return lambda chosen: min(100.0, sum(scores[v] for v in chosen))
        case YesNoQuestion(yes_score=yes, no_score=no):
            return lambda value: yes if value is True else no
        case ScaleQuestion(min=low, max=high):
            span = high - low
            return lambda value: (value - low) * 100.0 / span
        case NumberQuestion(bands=bands):
            starts = [b.at_least for b in bands]
            band_scores = [b.score for b in bands]
            return lambda value: band_scores[max(0, bisect_right(starts, value) - 1)]
        case _:
            return lambda value: 0.0


def question_score(question: Question, value: AnswerValue) -> float | None:
    """The 0-100 score of one answer, or None when it is N/A or the question is unscored."""
    if value is NA or isinstance(question, TextQuestion) or question.weight <= 0:
        return None
    return float(_score_function(question)(value))


def score_answers(
    definition: QuestionnaireDefinition, answers: Mapping[str, AnswerValue]
) -> AssessmentScore:
    """Score a set of answers (question id -> value or NA) against a definition.

    The answers must have passed intake validation; unanswered questions are allowed.
    """
    plan = _plan_for(definition)
    shown = plan.visibility.shown(answers)
    dimension_count = len(definition.dimensions)
    weighted = [0.0] * dimension_count
    weights = [0.0] * dimension_count
    answered = [0] * dimension_count
    applicable = [0] * dimension_count
    notes: list[list[tuple[float, float, _QuestionPlan, AnswerValue]]] = [
        [] for _ in range(dimension_count)
    ]
    gates: list[list[GateCheck]] = [[] for _ in range(dimension_count)]
    complete = True

    for q in plan.questions:
        qid = q.id
        if qid not in shown:
            continue
        value = answers.get(qid, _MISSING)
        if value is _MISSING and q.question.required:
            complete = False
        if not q.scored:
            continue
        d = q.dimension
        score: float | None = None
        if value is not NA:
            applicable[d] += 1
            if value is not _MISSING:
                score = q.score(value)
                answered[d] += 1
                weighted[d] += q.weight * score
                weights[d] += q.weight
                notes[d].append((score, q.weight, q, value))
        for gate in q.gates:
            met = value is NA or (score is not None and score >= gate.min_score)
            if not met:
                gates[d].append(
                    GateCheck(
                        level=gate.level,
                        question_id=qid,
                        prompt=q.question.prompt,
                        min_score=gate.min_score,
                        score=score,
                        answer="Not answered" if score is None else q.describe(value),
                        met=False,
                    )
                )

    dimensions = tuple(
        _dimension_result(
            definition,
            index,
            plan.thresholds[index],
            weighted[index] / weights[index] if weights[index] else 0.0,
            answered[index],
            applicable[index],
            gates[index],
            notes[index],
        )
        for index in range(dimension_count)
    )
    overall_level = _overall_level(definition, dimensions)
    total_weight = sum(d.weight for d in definition.dimensions)
    overall_score = (
        sum(r.score * d.weight for r, d in zip(dimensions, definition.dimensions, strict=True))
        / total_weight
    )
    return AssessmentScore(
        engine_version=ENGINE_VERSION,
        questionnaire_id=definition.id,
        questionnaire_version=definition.version,
        overall_level=overall_level,
        overall_level_name=definition.level_name(overall_level),
        overall_score=round(overall_score, 1),
        complete=complete,
        dimensions=dimensions,
    )


def dimension_levels(
    definition: QuestionnaireDefinition, answers: Mapping[str, AnswerValue]
) -> tuple[tuple[float, int], ...]:
    """(score, level) per dimension, in definition order, without the explanations.

    The same rules as score_answers in a lean loop, for callers that score many
    candidate answer sets (the roadmap planner). Tests hold the two to the same results.
    """
    plan = _plan_for(definition)
    shown = plan.visibility.shown(answers)
    return tuple(_lean_level(plan, d, answers, shown) for d in range(len(plan.thresholds)))


def dimension_level(
    definition: QuestionnaireDefinition, answers: Mapping[str, AnswerValue], dimension: int
) -> tuple[float, int]:
    """(score, level) of one dimension (by index), as dimension_levels gives it."""
    plan = _plan_for(definition)
    return _lean_level(plan, dimension, answers, plan.visibility.shown(answers))


def _lean_level(
    plan: _Plan, dimension: int, answers: Mapping[str, AnswerValue], shown: set[str]
) -> tuple[float, int]:
    weighted = weights = 0.0
    cap = 5
    for q in plan.scored_by_dimension[dimension]:
        if q.id not in shown:
            continue
        value = answers.get(q.id, _MISSING)
        if value is NA:
            continue
        score = None if value is _MISSING else q.score(value)
        if score is not None:
            weighted += q.weight * score
            weights += q.weight
        for gate in q.gates:
            if (score is None or score < gate.min_score) and gate.level - 1 < cap:
                cap = gate.level - 1
    score = round(weighted / weights, 1) if weights else 0.0
    return score, min(_level_by_score(score, plan.thresholds[dimension]), cap)


class _Missing:
    pass


_MISSING: Final = _Missing()


def _level_by_score(score: float, thresholds: Sequence[float]) -> int:
    level = 1
    for candidate in range(2, 6):
        if score >= thresholds[candidate - 1]:
            level = candidate
        else:
            break
    return level


def _dimension_result(
    definition: QuestionnaireDefinition,
    index: int,
    thresholds: Sequence[float],
    score: float,
    answered: int,
    applicable: int,
    failed: list[GateCheck],
    notes: list[tuple[float, float, _QuestionPlan, AnswerValue]],
) -> DimensionScore:
    dimension = definition.dimensions[index]
    # Levels are decided on the score as shown (one decimal), so the two always agree.
    score = round(score, 1)
    by_score = _level_by_score(score, thresholds)
    failed.sort(key=lambda g: (g.level, g.question_id))
    # Cumulative gating: a failed gate at level L caps the dimension at L - 1.
    level = min([by_score] + [g.level - 1 for g in failed])
    strongest = sorted(notes, key=lambda n: (-n[0], -n[1]))[:NOTES_PER_SIDE]
    weakest = sorted(notes, key=lambda n: (n[0], -n[1]))[:NOTES_PER_SIDE]
    next_level = _next_level(definition, level, score, thresholds, failed)
    return DimensionScore(
        dimension_id=dimension.id,
        title=dimension.title,
        score=score,
        level=level,
        level_name=definition.level_name(level),
        level_by_score=by_score,
        answered=answered,
        applicable=applicable,
        failed_gates=tuple(failed),
        strongest=tuple(_note(n) for n in strongest),
        weakest=tuple(_note(n) for n in weakest),
        next_level=next_level,
        summary=_summary(definition, level, by_score, score, thresholds, failed, answered),
    )


def _note(note: tuple[float, float, _QuestionPlan, AnswerValue]) -> AnswerNote:
    score, _, q, value = note
    return AnswerNote(q.id, q.question.prompt, q.describe(value), score)


def _next_level(
    definition: QuestionnaireDefinition,
    level: int,
    score: float,
    thresholds: Sequence[float],
    failed: list[GateCheck],
) -> NextLevel | None:
    if level >= 5:
        return None
    target = level + 1
    needed = thresholds[target - 1]
    short = max(0.0, needed - score)
    to_meet = tuple(g for g in failed if g.level <= target)
    steps = []
    if short > 0:
        steps.append(
            f"raise the score from {_fmt(score)} to {_fmt(needed)} ({_fmt_up(short)} points)"
        )
    if to_meet:
        gates = "; ".join(f"{g.prompt} ({g.question_id})" for g in to_meet)
        steps.append(f"meet {_plural(len(to_meet), 'gate')}: {gates}")
    name = definition.level_name(target)
    return NextLevel(
        level=target,
        name=name,
        score_needed=needed,
        points_short=math.ceil(short * 10) / 10,
        gates_to_meet=to_meet,
        summary=f"To reach level {target} ({name}): " + " and ".join(steps) + ".",
    )


def _summary(
    definition: QuestionnaireDefinition,
    level: int,
    by_score: int,
    score: float,
    thresholds: Sequence[float],
    failed: list[GateCheck],
    answered: int,
) -> str:
    head = f"Level {level} ({definition.level_name(level)})"
    if answered == 0:
        return f"{head}: no scored question in this dimension has been answered yet."
    text = f"{head}: the score of {_fmt(score)}"
    if by_score > level:
        holding = [g for g in failed if g.level == level + 1]
        names = "; ".join(
            f"{g.prompt} ({g.question_id}) is answered “{g.answer.rstrip('.')}”" for g in holding
        )
        return (
            f"{text} reaches the threshold for level {by_score} "
            f"({_fmt(thresholds[by_score - 1])}), "
            f"but level {level + 1} needs every one of its gates and "
            f"{_plural(len(holding), 'is', 'are')} not met: {names}."
        )
    if level == 5:
        return f"{text} reaches the top threshold ({_fmt(thresholds[4])}) and every gate is met."
    reached = (
        f"meets level {level}'s threshold ({_fmt(thresholds[level - 1])})"
        if level > 1
        else ("is below level 2's threshold")
    )
    upper = f"level {level + 1} needs {_fmt(thresholds[level])}"
    gates = "every gate up to this level is met" if level > 1 else "level 1 has no gates"
    return f"{text} {reached}; {upper}. {gates[0].upper()}{gates[1:]}."


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _fmt_up(value: float) -> str:
    return _fmt(math.ceil(value * 10) / 10)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    if plural is not None:  # a verb: "1 is" / "2 are"
        return f"{count} {singular if count == 1 else plural}"
    return f"{count} {singular if count == 1 else singular + 's'}"


def _overall_level(
    definition: QuestionnaireDefinition, dimensions: tuple[DimensionScore, ...]
) -> int:
    if definition.overall_level is OverallMethod.WEAKEST:
        return min(d.level for d in dimensions)
    total = sum(d.weight for d in definition.dimensions)
    mean = sum(r.level * d.weight for r, d in zip(dimensions, definition.dimensions, strict=True))
    return max(1, math.floor(mean / total + 1e-9))
