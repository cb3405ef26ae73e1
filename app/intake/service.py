"""Storing assessments: create, update a draft, submit, read and list, within scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.service import Principal, visible_organizations
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.intake.models import Answer as AnswerRow
from app.intake.models import Assessment, AssessmentSource, AssessmentStatus
from app.intake.validation import Answer, AnswerItem, check_answers
from app.observability.metrics import record_assessment
from app.organizations.models import Organization
from app.organizations.service import get_organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import QuestionnaireDefinition
from app.scoring.engine import NA, score_answers


def create_assessment(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    *,
    organization_id: uuid.UUID,
    questionnaire_id: str,
    version: int | None,
    status: str,
    items: Sequence[AnswerItem],
    source: AssessmentSource = AssessmentSource.API,
) -> Assessment:
    """Check, score and store a new assessment; a submitted one must be complete."""
    get_organization(session, principal, organization_id)
    definition = registry.get(questionnaire_id, version).definition
    submitting = status == AssessmentStatus.SUBMITTED
    answers = check_answers(definition, items, submitting=submitting)
    now = utcnow()
    assessment = Assessment(
        id=uuid.uuid4(),
        organization_id=organization_id,
        questionnaire_id=definition.id,
        questionnaire_version=definition.version,
        status=status,
        source=source.value,
        created_by_key_id=principal.key_id,
        created_at=now,
        updated_at=now,
        submitted_at=now if submitting else None,
        **_score_fields(definition, answers),
    )
    session.add(assessment)
    session.flush()
    # One executemany for the answers, not an ORM flush of each: the submit path's largest
    # cost. The collection is then set as loaded, so reading it costs no query.
    rows = _answer_rows(definition, answers)
    if rows:
        session.execute(insert(AnswerRow), [_row_values(assessment.id, row) for row in rows])
    set_committed_value(assessment, "answers", rows)
    record_assessment("created", source.value)
    if submitting:
        record_assessment("submitted", source.value)
    return assessment


def update_assessment(
    session: Session,
    registry: QuestionnaireRegistry,
    assessment: Assessment,
    *,
    items: Sequence[AnswerItem],
    submit: bool,
) -> Assessment:
    """Merge new answers into a draft, and submit it when asked; submitted ones never change."""
    if assessment.status == AssessmentStatus.SUBMITTED:
        raise Conflict(
            "This assessment was submitted and can no longer change; start a new assessment "
            "to re-assess."
        )
    definition = definition_of(registry, assessment)
    existing = {
        row.question_id: Answer(NA if row.na else row.value, row.comment)
        for row in assessment.answers
    }
    answers = check_answers(definition, items, existing=existing, submitting=submit)
    now = utcnow()
    for name, value in _score_fields(definition, answers).items():
        setattr(assessment, name, value)
    assessment.updated_at = now
    if submit:
        assessment.status = AssessmentStatus.SUBMITTED.value
        assessment.submitted_at = now
    # Replacing the collection deletes the old rows (delete-orphan) and inserts the new.
    assessment.answers = _answer_rows(definition, answers)
    session.flush()
    if submit:
        record_assessment("submitted", assessment.source)
    return assessment


def get_assessment(
    session: Session, principal: Principal, assessment_id: uuid.UUID, *, for_update: bool = False
) -> Assessment:
    """An assessment of an organization the principal can see; NotFound otherwise.

    ``for_update`` locks the row (on PostgreSQL) so concurrent edits of a draft serialise.
    """
    query = (
        select(Assessment)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(Assessment.id == assessment_id, visible_organizations(principal))
    )
    if for_update:
        query = query.with_for_update(of=Assessment)
    assessment = session.scalar(query)
    if assessment is None:
        raise NotFound(f"There is no assessment {assessment_id} that this key can see.")
    return assessment


def list_assessments(
    session: Session,
    principal: Principal,
    *,
    organization_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Assessment], int]:
    """A page of visible assessments, newest first, and their total."""
    query = (
        select(Assessment)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(visible_organizations(principal))
    )
    if organization_id is not None:
        get_organization(session, principal, organization_id)
        query = query.where(Assessment.organization_id == organization_id)
    if status is not None:
        query = query.where(Assessment.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Assessment.created_at.desc(), Assessment.id).limit(limit).offset(offset)
    )
    return list(rows), total


def definition_of(
    registry: QuestionnaireRegistry, assessment: Assessment
) -> QuestionnaireDefinition:
    """The exact questionnaire version an assessment answers."""
    return registry.get(assessment.questionnaire_id, assessment.questionnaire_version).definition


def _score_fields(
    definition: QuestionnaireDefinition, answers: dict[str, Answer]
) -> dict[str, Any]:
    result = score_answers(definition, {qid: a.value for qid, a in answers.items()})
    return {"scores": result.to_dict(), "engine_version": result.engine_version}


def _row_values(assessment_id: uuid.UUID, row: AnswerRow) -> dict[str, Any]:
    return {
        "assessment_id": assessment_id,
        "question_id": row.question_id,
        "position": row.position,
        "value": row.value,
        "na": row.na,
        "comment": row.comment,
    }


def _answer_rows(
    definition: QuestionnaireDefinition, answers: dict[str, Answer]
) -> list[AnswerRow]:
    index = definition.question_index()
    return [
        AnswerRow(
            question_id=qid,
            position=index[qid][0],
            value=None if answer.value is NA else answer.value,
            na=answer.value is NA,
            comment=answer.comment,
        )
        for qid, answer in answers.items()
    ]
