"""An organization's submitted assessments over time, and the change between two of them.

Scores come from the snapshot stored with each assessment (scored against the version it
was answered on), so history never re-scores old answers against a newer questionnaire.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.intake.models import Assessment, AssessmentStatus
from app.intake.service import stored_values
from app.organizations.models import Organization
from app.questionnaire.answers import NA, AnswerValue, describe_answer
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import Question, QuestionnaireDefinition
from app.scoring.engine import question_score

# -- response bodies -----------------------------------------------------------------------


class QuestionnaireVersionRef(BaseModel):
    id: str
    version: int


class DimensionPoint(BaseModel):
    """One dimension's score (0-100) and level (1-5) in one assessment."""

    dimension_id: str
    title: str
    score: float
    level: int
    level_name: str


class HistoryEntry(BaseModel):
    """One assessment as the history (submitted ones) or a comparison (any) shows it."""

    assessment_id: uuid.UUID
    status: Literal["draft", "submitted"]
    submitted_at: datetime | None = Field(description="Null for a draft.")
    questionnaire: QuestionnaireVersionRef
    overall_level: int
    overall_level_name: str
    overall_score: float
    dimensions: list[DimensionPoint]


class History(BaseModel):
    organization_id: uuid.UUID
    items: list[HistoryEntry] = Field(description="Submitted assessments, oldest first.")


class DimensionChange(BaseModel):
    """How one dimension moved; null on a side whose version has no such dimension."""

    dimension_id: str
    title: str
    score_before: float | None
    score_after: float | None
    score_delta: float | None
    level_before: int | None
    level_after: int | None


class AnswerSide(BaseModel):
    """A question's answer in one assessment: the stored value, in words, and its score."""

    value: Any = Field(description="As stored; null when not answered or N/A.")
    na: bool
    answer: str = Field(description="The answer in words, as the report shows it.")
    score: float | None = Field(description="0-100; null when N/A, unscored or unanswered.")


class QuestionChange(BaseModel):
    question_id: str
    dimension_id: str
    prompt: str
    presence: Literal["both", "only_before", "only_after"] = Field(
        description="Whether the question is in both questionnaire versions or only one."
    )
    before: AnswerSide | None = Field(description="Null when not answered (or not asked).")
    after: AnswerSide | None
    score_delta: float | None = Field(description="after - before, when both are scored.")


class Comparison(BaseModel):
    """The change from ``before`` (the first id in the path) to ``after`` (the second).

    Drafts compare too (their scores cover what is answered so far); ``status`` says which.
    """

    organization_id: uuid.UUID
    questionnaire_id: str
    before: HistoryEntry
    after: HistoryEntry
    overall_level_before: int
    overall_level_after: int
    dimensions: list[DimensionChange]
    questions: list[QuestionChange]


# -- reading --------------------------------------------------------------------------------


def submitted_assessments(
    session: Session,
    organization_id: uuid.UUID,
    *,
    questionnaire_id: str | None = None,
    up_to: datetime | None = None,
) -> list[Assessment]:
    """The organization's submitted assessments, oldest first (ties broken by id)."""
    query = select(Assessment).where(
        Assessment.organization_id == organization_id,
        Assessment.status == AssessmentStatus.SUBMITTED.value,
        Assessment.submitted_at.is_not(None),
    )
    if questionnaire_id is not None:
        query = query.where(Assessment.questionnaire_id == questionnaire_id)
    if up_to is not None:
        query = query.where(Assessment.submitted_at <= up_to)
    return list(session.scalars(query.order_by(Assessment.submitted_at, Assessment.id)))


def history_entry(assessment: Assessment) -> HistoryEntry:
    """An assessment's stored scores as a point of its organization's history."""
    return _entry(
        assessment.id,
        assessment.status,
        assessment.submitted_at,
        assessment.questionnaire_id,
        assessment.questionnaire_version,
        assessment.scores,
    )


def _entry(
    assessment_id: uuid.UUID,
    status: str,
    submitted_at: datetime | None,
    questionnaire_id: str,
    questionnaire_version: int,
    scores: dict[str, Any],
) -> HistoryEntry:
    return HistoryEntry(
        assessment_id=assessment_id,
        status=AssessmentStatus(status).value,
        submitted_at=submitted_at,
        questionnaire=QuestionnaireVersionRef(id=questionnaire_id, version=questionnaire_version),
        overall_level=scores["overall_level"],
        overall_level_name=scores["overall_level_name"],
        overall_score=scores["overall_score"],
        dimensions=[
            DimensionPoint(
                dimension_id=d["dimension_id"],
                title=d["title"],
                score=d["score"],
                level=d["level"],
                level_name=d["level_name"],
            )
            for d in scores["dimensions"]
        ],
    )


def latest_submitted(
    session: Session, organization_ids: Select[uuid.UUID], *, per_organization: int = 2
) -> dict[uuid.UUID, list[HistoryEntry]]:
    """The last ``per_organization`` submitted assessments of each organization that
    ``organization_ids`` selects, newest first, in one query (for lists of many
    organizations; drafts never count). Organizations without one are left out.
    """
    ranked = (
        select(
            Assessment.id,
            Assessment.organization_id,
            Assessment.status,
            Assessment.submitted_at,
            Assessment.questionnaire_id,
            Assessment.questionnaire_version,
            Assessment.scores,
            func.row_number()
            .over(
                partition_by=Assessment.organization_id,
                order_by=(Assessment.submitted_at.desc(), Assessment.id.desc()),
            )
            .label("position"),
        )
        .where(
            Assessment.organization_id.in_(organization_ids.scalar_subquery()),
            Assessment.status == AssessmentStatus.SUBMITTED.value,
            Assessment.submitted_at.is_not(None),
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked)
        .where(ranked.c.position <= per_organization)
        .order_by(ranked.c.organization_id, ranked.c.position)
    )
    latest: dict[uuid.UUID, list[HistoryEntry]] = {}
    for row in rows:
        latest.setdefault(row.organization_id, []).append(
            _entry(
                row.id,
                row.status,
                row.submitted_at,
                row.questionnaire_id,
                row.questionnaire_version,
                row.scores,
            )
        )
    return latest


def organization_history(session: Session, organization: Organization) -> History:
    """Every submitted assessment of an organization (any questionnaire), oldest first."""
    return History(
        organization_id=organization.id,
        items=[history_entry(a) for a in submitted_assessments(session, organization.id)],
    )


# -- comparing ------------------------------------------------------------------------------


def compare(registry: QuestionnaireRegistry, before: Assessment, after: Assessment) -> Comparison:
    """The change per dimension and per question between two answers to one questionnaire.

    Versions of one questionnaire may differ; a question in only one of them is marked.
    Conflict when the two answer different questionnaires: their scores do not compare.
    """
    if before.questionnaire_id != after.questionnaire_id:
        raise Conflict(
            f"Only assessments of the same questionnaire compare: one answers "
            f"{before.questionnaire_id!r}, the other {after.questionnaire_id!r}."
        )
    old = registry.get(before.questionnaire_id, before.questionnaire_version).definition
    new = registry.get(after.questionnaire_id, after.questionnaire_version).definition
    first, second = history_entry(before), history_entry(after)
    return Comparison(
        organization_id=after.organization_id,
        questionnaire_id=after.questionnaire_id,
        before=first,
        after=second,
        overall_level_before=first.overall_level,
        overall_level_after=second.overall_level,
        dimensions=_dimension_changes(first.dimensions, second.dimensions),
        questions=_question_changes(old, stored_values(before), new, stored_values(after)),
    )


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else round(after - before, 2)


def _dimension_changes(
    before: Sequence[DimensionPoint], after: Sequence[DimensionPoint]
) -> list[DimensionChange]:
    old = {d.dimension_id: d for d in before}
    new = {d.dimension_id: d for d in after}
    order = [*new, *(d for d in old if d not in new)]
    changes = []
    for dimension_id in order:
        was, now = old.get(dimension_id), new.get(dimension_id)
        changes.append(
            DimensionChange(
                dimension_id=dimension_id,
                title=(now or old[dimension_id]).title,
                score_before=was.score if was else None,
                score_after=now.score if now else None,
                score_delta=_delta(was.score if was else None, now.score if now else None),
                level_before=was.level if was else None,
                level_after=now.level if now else None,
            )
        )
    return changes


def _side(question: Question | None, answers: dict[str, AnswerValue]) -> AnswerSide | None:
    if question is None or question.id not in answers:
        return None
    value = answers[question.id]
    return AnswerSide(
        value=None if value is NA else value,
        na=value is NA,
        answer=describe_answer(question, value),
        score=question_score(question, value),
    )


def _question_changes(
    old: QuestionnaireDefinition,
    before: dict[str, AnswerValue],
    new: QuestionnaireDefinition,
    after: dict[str, AnswerValue],
) -> list[QuestionChange]:
    old_questions = {q.id: q for q in old.questions}
    new_questions = {q.id: q for q in new.questions}
    order = [*new_questions, *(q for q in old_questions if q not in new_questions)]
    changes = []
    for question_id in order:
        was, now = old_questions.get(question_id), new_questions.get(question_id)
        shown = now or old_questions[question_id]
        first, second = _side(was, before), _side(now, after)
        changes.append(
            QuestionChange(
                question_id=question_id,
                dimension_id=shown.dimension,
                prompt=shown.prompt,
                presence="both" if was and now else ("only_after" if now else "only_before"),
                before=first,
                after=second,
                score_delta=_delta(
                    first.score if first else None, second.score if second else None
                ),
            )
        )
    return changes
