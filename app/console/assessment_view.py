"""What the console's assessment page shows, as frozen view models.

Built only from what the services return: the score snapshot stored with the assessment
(its levels and the engine's explanations, never scored again), the gates in words
(``app.reports.requirements``), the answers as the form reads them (``app.forms``) and
the roadmap the REST API plans (``app.reports.inputs.plan``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.forms.service import FormAnswers
from app.questionnaire.schemas import QuestionnaireDefinition
from app.reports.requirements import OpenGate, open_gates
from app.reports.view import format_money, format_score, months_label, weeks_label
from app.roadmap.results import Phase, PlannedAction, Roadmap
from app.scoring.results import GateCheck


@dataclass(frozen=True, slots=True)
class Note:
    """An answer the explanation names: the question, the answer, its score."""

    prompt: str
    answer: str
    score: str


@dataclass(frozen=True, slots=True)
class DimensionView:
    """One dimension: level, score, why, what the next level takes, and its open gates."""

    dimension_id: str
    title: str
    level: int
    level_name: str
    score: str
    level_by_score: int
    answered: int
    applicable: int
    why: str
    next_level: str | None
    gates: tuple[OpenGate, ...]
    strongest: tuple[Note, ...]
    weakest: tuple[Note, ...]


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One asked question: its prompt, its answer in words (None: unanswered), a comment."""

    question_id: str
    prompt: str
    answer: str | None
    comment: str | None
    required: bool

    @property
    def missing(self) -> bool:
        """A required question asked and still unanswered (it stops a submission)."""
        return self.required and self.answer is None


@dataclass(frozen=True, slots=True)
class SectionView:
    """One section (a dimension's questions) with its answers and how complete it is."""

    dimension_id: str
    title: str
    rows: tuple[AnswerRow, ...]
    answered: int
    missing: int  # required questions asked but unanswered

    @property
    def asked(self) -> int:
        return len(self.rows)

    @property
    def complete(self) -> bool:
        return self.missing == 0


def dimension_views(
    definition: QuestionnaireDefinition, scores: Mapping[str, Any]
) -> tuple[DimensionView, ...]:
    """Each dimension of the stored score snapshot, with its failed gates in words."""
    return tuple(_dimension(definition, d) for d in scores["dimensions"])


def _dimension(definition: QuestionnaireDefinition, stored: Mapping[str, Any]) -> DimensionView:
    failed = [GateCheck(**gate) for gate in stored["failed_gates"]]
    next_level = stored["next_level"]
    return DimensionView(
        dimension_id=stored["dimension_id"],
        title=stored["title"],
        level=stored["level"],
        level_name=stored["level_name"],
        score=format_score(stored["score"]),
        level_by_score=stored["level_by_score"],
        answered=stored["answered"],
        applicable=stored["applicable"],
        why=stored["summary"],
        next_level=next_level["summary"] if next_level else None,
        gates=open_gates(definition, failed),
        strongest=_notes(stored["strongest"]),
        weakest=_notes(stored["weakest"]),
    )


def _notes(notes: Sequence[Mapping[str, Any]]) -> tuple[Note, ...]:
    return tuple(Note(n["prompt"], n["answer"], format_score(n["score"])) for n in notes)


def section_views(answers: FormAnswers) -> tuple[SectionView, ...]:
    """Every section with the questions these answers ask (follow-ups included)."""
    definition = answers.definition
    shown = answers.asked()
    sections = []
    for dimension in definition.dimensions:
        rows = tuple(
            AnswerRow(
                question.id,
                question.prompt,
                answers.answer_text(question),
                answers.comments.get(question.id),
                question.required,
            )
            for question in definition.questions_in(dimension.id)
            if question.id in shown
        )
        sections.append(
            SectionView(
                dimension.id,
                dimension.title,
                rows,
                answered=sum(1 for r in rows if r.answer is not None),
                missing=sum(1 for r in rows if r.missing),
            )
        )
    return tuple(sections)


@dataclass(frozen=True, slots=True)
class ActionLine:
    title: str
    when: str
    cost: str
    baseline: bool


@dataclass(frozen=True, slots=True)
class PhaseLine:
    title: str
    when: str
    cost: str
    actions: tuple[ActionLine, ...]


@dataclass(frozen=True, slots=True)
class RoadmapSummary:
    """The plan in brief: its phases and actions, how long it runs, what it costs."""

    length: str
    phases: tuple[PhaseLine, ...]
    year1: str | None
    year2: str | None
    total: str
    unreachable: tuple[str, ...]
    targets: tuple[tuple[str, int, int], ...]  # dimension title, target, projected level


def roadmap_summary(roadmap: Roadmap) -> RoadmapSummary:
    """A roadmap as the assessment page summarises it."""
    money = roadmap.currency
    projected = {p.dimension_id: p.level for p in roadmap.projected}
    titles = {c.dimension_id: c.title for c in roadmap.current}
    return RoadmapSummary(
        length=roadmap.length,
        phases=tuple(_phase(roadmap, p) for p in roadmap.phases if p.actions),
        year1=format_money(roadmap.costs.year1.total, money) if roadmap.costs else None,
        year2=format_money(roadmap.costs.year2.total, money) if roadmap.costs else None,
        total=format_money(roadmap.total_cost, money),
        unreachable=tuple(u.reason for u in roadmap.unreachable),
        targets=tuple(
            (titles.get(d, d), level, projected.get(d, level))
            for d, level in roadmap.targets.items()
        ),
    )


def _when(roadmap: Roadmap, item: Phase | PlannedAction) -> str:
    if roadmap.by_month:
        return months_label(item.start_month, item.end_month)
    return weeks_label(item.start_week, item.end_week)


def _phase(roadmap: Roadmap, phase: Phase) -> PhaseLine:
    return PhaseLine(
        phase.title,
        _when(roadmap, phase),
        format_money(phase.cost, roadmap.currency),
        tuple(
            ActionLine(
                a.title,
                _when(roadmap, a),
                format_money(a.cost, roadmap.currency) if a.cost else "no added cost",
                a.baseline,
            )
            for a in phase.actions
        ),
    )
