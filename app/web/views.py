"""What the form's pages show beyond single questions: progress, and the results page.

Frozen view models, built from what the form service returns; the results are read from
the score snapshot stored when the assessment was submitted, never scored again. Their
fields can be read by name too (``view["title"]``), as a page's context is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.forms.service import FormAnswers, FormResults
from app.questionnaire.schemas import QuestionnaireDefinition
from app.reports.charts import radar_chart
from app.reports.view import format_money, format_score, weeks_label
from app.roadmap.results import Phase
from app.web.deps import Visit


class _ByName:
    """Read a field by name as well as by attribute."""

    __slots__ = ()

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class Step(_ByName):
    """One step of the progress list: the profile, a dimension, or the review."""

    number: int
    id: str
    title: str
    detail: str
    current: bool
    done: bool


def progress(visit: Visit, answers: FormAnswers, current: str) -> list[Step]:
    """Every step in order, with how much of each dimension is answered."""
    steps = []
    for number, (step, title) in enumerate(visit.steps(), start=1):
        detail = ""
        done = False
        if step == "profile":
            done = bool(answers.values)
        elif step != "review":
            answered, asked = answers.section_progress(step)
            detail = f"{answered} of {asked} answered"
            done = answered == asked
        steps.append(Step(number, step, title, detail, step == current, done))
    return steps


@dataclass(frozen=True, slots=True)
class DimensionView(_ByName):
    """One dimension on the results page: its level, what it means, why, and what is next."""

    title: str
    level: int
    level_name: str
    score: str
    description: str  # what the level means, in the dimension's own terms where it has them
    why: str
    next: str | None
    next_questions: list[str]  # the prompts of the questions the level above needs
    target: int | None


@dataclass(frozen=True, slots=True)
class ActionView(_ByName):
    """One action of the roadmap's first phase."""

    title: str
    rationale: str
    weeks: str
    services: tuple[str, ...]
    cost: str


@dataclass(frozen=True, slots=True)
class ResultsPage:
    """The results page: levels, the radar chart, the reasons, and the first phase."""

    overall_level: int
    overall_level_name: str
    dimensions: tuple[DimensionView, ...]
    radar: str  # SVG; radar_chart escapes every piece of text itself
    phase: Phase | None
    phase_cost: str | None
    actions: tuple[ActionView, ...]
    total_cost: str
    phase_count: int


def results_page(definition: QuestionnaireDefinition, results: FormResults) -> ResultsPage:
    """The results page for a submitted assessment, from its stored scores and its roadmap."""
    scores = results.scores
    roadmap = results.roadmap
    projected = {p.dimension_id: p.level for p in roadmap.projected}
    dimensions = scores["dimensions"]
    chart = radar_chart(
        [
            (
                d["title"],
                d["level"],
                roadmap.targets.get(d["dimension_id"], d["level"]),
                projected.get(d["dimension_id"], d["level"]),
            )
            for d in dimensions
        ]
    )
    first_phase = next((p for p in roadmap.phases if p.actions), None)
    return ResultsPage(
        overall_level=scores["overall_level"],
        overall_level_name=scores["overall_level_name"],
        dimensions=tuple(_dimension(definition, d, roadmap.targets) for d in dimensions),
        radar=chart,
        phase=first_phase,
        phase_cost=format_money(first_phase.cost, roadmap.currency) if first_phase else None,
        actions=tuple(
            ActionView(
                a.title,
                a.rationale,
                weeks_label(a.start_week, a.end_week),
                tuple(s.title for s in a.services),
                # A service bought for an earlier action costs nothing more here.
                format_money(a.cost, roadmap.currency) if a.cost else "no added cost",
            )
            for a in (first_phase.actions if first_phase else ())
        ),
        total_cost=format_money(roadmap.total_cost, roadmap.currency),
        phase_count=sum(1 for p in roadmap.phases if p.actions),
    )


def _dimension(
    definition: QuestionnaireDefinition, stored: Mapping[str, Any], targets: Mapping[str, int]
) -> DimensionView:
    next_level = stored["next_level"]
    return DimensionView(
        title=stored["title"],
        level=stored["level"],
        level_name=stored["level_name"],
        score=format_score(stored["score"]),
        description=_level_meaning(definition, stored["dimension_id"], stored["level"]),
        why=_plain(stored["summary"]),
        next=_next_level_text(next_level) if next_level else None,
        next_questions=[g["prompt"] for g in next_level["gates_to_meet"]] if next_level else [],
        target=targets.get(stored["dimension_id"]),
    )


_QUESTION_IDS = re.compile(r" \([a-z][a-z0-9_]*\)")


def _level_meaning(definition: QuestionnaireDefinition, dimension_id: str, level: int) -> str:
    dimension = definition.dimension(dimension_id)
    if dimension is None:
        return definition.levels[level - 1].description
    return dimension.level_description(level, definition.levels)


def _next_level_text(next_level: Mapping[str, Any]) -> str:
    """What the level above takes, in words; the questions it needs are listed after it."""
    head = f"To reach level {next_level['level']} ({next_level['name']}), "
    score = (
        f"raise the score to {format_score(next_level['score_needed'])} "
        f"({format_score(next_level['points_short'])} points more)"
        if next_level["points_short"] > 0
        else ""
    )
    count = len(next_level["gates_to_meet"])
    questions = (
        f"give a stronger answer to {'this question' if count == 1 else f'these {count} questions'}"
        if count
        else ""
    )
    if score and questions:
        return f"{head}{score} and {questions}:"
    if questions:
        return f"{head}{questions}:"
    return f"{head}{score}."


def _plain(text: str) -> str:
    """An engine explanation without the question ids meant for analysts."""
    return _QUESTION_IDS.sub("", text)
