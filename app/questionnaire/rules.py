"""Rules that relate one part of a definition to another.

Each rule yields ``(path, problem)`` pairs; the loader adds the file name and the line.
Paths are tuples of keys and indexes, the same shape pydantic uses for its errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from app.questionnaire.schemas import (
    LEVELS,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    QuestionType,
    ScaleQuestion,
    ShowIf,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def score_range(question: Question) -> tuple[float, float]:
    """The lowest and highest score an answer to this question can get."""
    match question:
        case SingleChoiceQuestion(options=options):
            scores = [o.score for o in options]
            return min(scores), max(scores)
        case MultipleChoiceQuestion(options=options):
            inclusive = sum(o.score for o in options if not o.exclusive)
            best = max([min(100.0, inclusive)] + [o.score for o in options if o.exclusive])
            return 0.0, best
        case YesNoQuestion(yes_score=yes, no_score=no):
            return min(yes, no), max(yes, no)
        case ScaleQuestion():
            return 0.0, 100.0
        case NumberQuestion(bands=bands, min=low, max=high):
            reachable = [
                b.score for i, b in enumerate(bands) if _band_reachable(bands, i, low, high)
            ]
            # No band reachable means min/max or the bands are wrong, which is reported
            # on its own; fall back to every band so the other checks can still run.
            scores = reachable or [b.score for b in bands]
            return min(scores), max(scores)
        case _:
            return 0.0, 0.0


def _band_reachable(bands: tuple[object, ...], index: int, low: float, high: float) -> bool:
    start = bands[index].at_least  # type: ignore[attr-defined]
    end = bands[index + 1].at_least if index + 1 < len(bands) else float("inf")  # type: ignore[attr-defined]
    return start <= high and end > low


def is_scored(question: Question) -> bool:
    """Whether the question counts towards its dimension's score."""
    return question.type is not QuestionType.TEXT and question.weight > 0


def check_definition(definition: QuestionnaireDefinition) -> list[Problem]:
    """Every cross-reference problem in a structurally valid definition."""
    problems: list[Problem] = []
    problems += _check_levels(definition)
    problems += _check_dimensions(definition)
    problems += _check_questions(definition)
    return problems


def _check_levels(definition: QuestionnaireDefinition) -> Iterator[Problem]:
    for index, level in enumerate(definition.levels):
        if level.level != LEVELS[index]:
            yield (
                ("levels", index, "level"),
                (
                    f"levels must be listed 1 to 5 in order; expected {LEVELS[index]}, "
                    f"found {level.level}"
                ),
            )


def _check_dimensions(definition: QuestionnaireDefinition) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, dimension in enumerate(definition.dimensions):
        if dimension.id in seen:
            yield ("dimensions", index, "id"), f"duplicate dimension id {dimension.id!r}"
        seen.add(dimension.id)
        thresholds = dimension.thresholds.as_tuple()
        for level in LEVELS[1:]:
            if thresholds[level - 1] <= thresholds[level - 2]:
                yield (
                    ("dimensions", index, "thresholds", str(level)),
                    (
                        f"thresholds must increase with the level: level {level} needs "
                        f"{thresholds[level - 1]:g}, not more than level {level - 1}'s "
                        f"{thresholds[level - 2]:g}"
                    ),
                )
        yield from _check_dimension_levels(definition, index)
        scored = [q for q in definition.questions_in(dimension.id) if is_scored(q)]
        if not scored:
            yield ("dimensions", index), f"dimension {dimension.id!r} has no scored question"
            continue
        best = _best_possible_score(scored)
        if best < thresholds[-1]:
            yield (
                ("dimensions", index, "thresholds", "5"),
                (
                    f"level 5 needs {thresholds[-1]:g} but the best possible answers score "
                    f"only {best:.1f}"
                ),
            )


def _check_dimension_levels(definition: QuestionnaireDefinition, index: int) -> Iterator[Problem]:
    """A dimension's own level descriptions: five, 1 to 5, named as the global levels."""
    levels = definition.dimensions[index].levels
    if levels is None:
        return
    at: Path = ("dimensions", index, "levels")
    if len(levels) != len(LEVELS):
        yield at, f"give exactly {len(LEVELS)} levels, 1 to 5; found {len(levels)}"
        return
    for position, level in enumerate(levels):
        if level.level != LEVELS[position]:
            yield (
                (*at, position, "level"),
                (
                    f"levels must be listed 1 to 5 in order; expected {LEVELS[position]}, "
                    f"found {level.level}"
                ),
            )
            continue
        name = definition.level_name(level.level)
        if level.name != name:
            yield (
                (*at, position, "name"),
                f"level {level.level} is called {name!r} in the questionnaire's levels, "
                f"not {level.name!r}",
            )


def _best_possible_score(scored: list[Question]) -> float:
    total_weight = sum(q.weight for q in scored)
    return sum(score_range(q)[1] * q.weight for q in scored) / total_weight


def _check_questions(definition: QuestionnaireDefinition) -> Iterator[Problem]:
    dimensions = {d.id for d in definition.dimensions}
    earlier: dict[str, Question] = {}
    for index, question in enumerate(definition.questions):
        at: Path = ("questions", index)
        if question.id in earlier:
            yield (*at, "id"), f"duplicate question id {question.id!r}"
        if question.dimension not in dimensions:
            yield (*at, "dimension"), f"unknown dimension {question.dimension!r}"
        if question.na_label is not None and not question.allow_na:
            yield (*at, "na_label"), "na_label is given but allow_na is false"
        yield from _check_options(question, at)
        yield from _check_type_details(question, at)
        yield from _check_gates(question, at)
        if question.show_if is not None:
            yield from _check_show_if(question, question.show_if, earlier, (*at, "show_if"))
        earlier.setdefault(question.id, question)


def _check_options(question: Question, at: Path) -> Iterator[Problem]:
    if not isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
        return
    seen: set[str] = set()
    for index, option in enumerate(question.options):
        if option.value in seen:
            yield (*at, "options", index, "value"), f"duplicate option value {option.value!r}"
        seen.add(option.value)
        if option.exclusive and isinstance(question, SingleChoiceQuestion):
            yield (*at, "options", index, "exclusive"), "exclusive applies to multiple choice only"


def _check_type_details(question: Question, at: Path) -> Iterator[Problem]:
    match question:
        case ScaleQuestion(min=low, max=high, labels=labels):
            if high <= low:
                yield (*at, "max"), f"max ({high}) must be greater than min ({low})"
            for point in labels:
                if not low <= point <= high:
                    yield (*at, "labels", point), f"label for {point} is outside {low}..{high}"
        case NumberQuestion(min=low, max=high, bands=bands):
            if high <= low:
                yield (*at, "max"), f"max ({high:g}) must be greater than min ({low:g})"
            if bands[0].at_least > low:
                yield (
                    (*at, "bands", 0, "at_least"),
                    (f"the first band must start at or below min ({low:g}) so every answer scores"),
                )
            for index in range(1, len(bands)):
                if bands[index].at_least <= bands[index - 1].at_least:
                    yield (*at, "bands", index, "at_least"), "bands must be in increasing order"
        case TextQuestion(gates=gates) if gates:
            yield (*at, "gates"), "free-text questions are not scored and cannot gate a level"
        case _:
            pass


def _check_gates(question: Question, at: Path) -> Iterator[Problem]:
    if not question.gates:
        return
    if question.show_if is not None:
        yield (
            (*at, "gates"),
            (
                "a follow-up question (with show_if) cannot gate a level: whether it is asked "
                "depends on another answer, so the gate would come and go"
            ),
        )
    if not is_scored(question):
        if not isinstance(question, TextQuestion):  # free text is reported by its type check
            yield (*at, "gates"), "a question with weight 0 cannot gate a level"
        return
    low, high = score_range(question)
    levels: set[int] = set()
    for index, gate in enumerate(question.gates):
        if gate.level in levels:
            yield (*at, "gates", index, "level"), f"level {gate.level} is gated twice"
        levels.add(gate.level)
        if gate.min_score > high:
            yield (
                (*at, "gates", index, "min_score"),
                (f"no answer can reach {gate.min_score:g}; the best scores {high:g}"),
            )
        if gate.min_score <= low:
            yield (
                (*at, "gates", index, "min_score"),
                (f"every answer passes a gate at {gate.min_score:g}; the worst scores {low:g}"),
            )


def _check_show_if(
    question: Question, condition: ShowIf, earlier: dict[str, Question], at: Path
) -> Iterator[Problem]:
    parent = earlier.get(condition.question)
    if parent is None:
        yield (
            (*at, "question"),
            (
                f"{condition.question!r} is not an earlier question; show_if may only refer to "
                "a question asked before this one"
            ),
        )
        return
    operators = {
        name: getattr(condition, name)
        for name in ("equals", "any_of", "includes", "at_least")
        if getattr(condition, name) is not None
    }
    if len(operators) != 1:
        yield at, "give exactly one of equals, any_of, includes, at_least"
        return
    ((operator, operand),) = operators.items()
    misfits = list(_check_operator(parent, operator, operand, (*at, operator)))
    yield from misfits
    if misfits:
        return  # a condition that does not fit its question cannot be judged further
    if is_scored(question) and not _shown_for_better_answers(parent, operator, operand):
        yield (
            at,
            (
                "a scored follow-up must be shown for every answer to "
                f"{parent.id!r} that scores at least as well as one that shows it; otherwise a "
                "better answer could hide it and lower the score"
            ),
        )


def _check_operator(
    parent: Question, operator: str, operand: object, at: Path
) -> Iterator[Problem]:
    expected = {
        "equals": (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.SCALE),
        "any_of": (QuestionType.SINGLE_CHOICE,),
        "includes": (QuestionType.MULTIPLE_CHOICE,),
        "at_least": (QuestionType.SCALE, QuestionType.NUMBER),
    }[operator]
    if parent.type not in expected:
        names = ", ".join(t.value for t in expected)
        yield at, f"{operator} applies to {names} questions; {parent.id!r} is {parent.type.value}"
        return
    values = [operand] if operator in ("equals", "includes") else operand
    match parent:
        case SingleChoiceQuestion() | MultipleChoiceQuestion() if operator != "at_least":
            offered = {o.value for o in parent.options}
            for value in values:  # type: ignore[attr-defined]
                if value not in offered:
                    yield at, f"{value!r} is not an option of {parent.id!r}"
        case YesNoQuestion() if not isinstance(operand, bool):
            yield at, f"{parent.id!r} is a yes/no question: compare with true or false"
        case ScaleQuestion(min=low, max=high) if operator == "equals" and (
            isinstance(operand, bool) or not isinstance(operand, int) or not low <= operand <= high
        ):
            yield at, f"{operand!r} is not a point on the scale of {parent.id!r} ({low}..{high})"
        case _:
            pass


def _shown_for_better_answers(parent: Question, operator: str, operand: object) -> bool:
    """Whether the answers that show a follow-up are closed upwards by score."""
    match parent:
        case SingleChoiceQuestion(options=options):
            if operator not in ("equals", "any_of"):
                return True  # the operator does not fit; _check_operator reports it
            shown = {operand} if operator == "equals" else set(operand)  # type: ignore[call-overload]
            floor = min((o.score for o in options if o.value in shown), default=None)
            if floor is None:
                return True  # no option shows it; _check_operator reports unknown values
            return all(o.value in shown for o in options if o.score >= floor)
        case YesNoQuestion(yes_score=yes, no_score=no):
            shown_score, other_score = (yes, no) if operand is True else (no, yes)
            return other_score < shown_score
        case ScaleQuestion() | NumberQuestion():
            # Scale scores rise with the point; number bands are checked for rising scores.
            if isinstance(parent, NumberQuestion):
                scores = [b.score for b in parent.bands]
                rising = all(a < b for a, b in pairwise(scores))
                boundary = any(b.at_least == operand for b in parent.bands)
                return operator == "at_least" and rising and boundary
            return operator == "at_least" or operand == parent.max
        case _:
            # A multiple-choice answer's score is not ordered like its options.
            return False
