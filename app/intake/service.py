"""Storing assessments: create, update a draft, submit, read and list, within scope."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.auth.service import Principal, visible_organizations
from app.db import utcnow
from app.errors import AppError, Conflict, FieldError, InvalidRequest, NotFound, field_path
from app.intake.models import Assessment, AssessmentSource, AssessmentStatus
from app.intake.schemas import AssessmentCreate
from app.intake.validation import Answer, AnswerItem, check_answers
from app.observability.metrics import record_assessment
from app.organizations.models import Organization
from app.organizations.service import get_organization, in_scope
from app.questionnaire.answers import NA, AnswerValue
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import QuestionnaireDefinition
from app.scoring.engine import score_answers
from app.text import printable

ASSESSMENTS: Table = Assessment.__table__  # type: ignore[assignment]


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
    organization: Organization | None = None,
) -> Assessment:
    """Check, score and store a new assessment; a submitted one must be complete.

    ``organization``: the one ``organization_id`` names, when the caller has just found it
    within ``principal``'s scope (it is not looked up again).
    """
    if organization is None or organization.id != organization_id:
        get_organization(session, principal, organization_id)
    definition = registry.get(questionnaire_id, version).definition
    submitting = status == AssessmentStatus.SUBMITTED
    answers = check_answers(definition, items, submitting=submitting)
    now = utcnow()
    document = _answer_document(definition, answers)
    values = {
        "id": uuid.uuid4(),
        "organization_id": organization_id,
        "questionnaire_id": definition.id,
        "questionnaire_version": definition.version,
        "status": status,
        "source": source.value,
        "created_by_key_id": principal.key_id,
        "created_at": now,
        "updated_at": now,
        "submitted_at": now if submitting else None,
        **_score_fields(definition, answers),
    }
    # One INSERT of one row (the answers are a column of it): the ORM's unit of work would
    # add nothing here but its cost. The object is then attached as if loaded, so callers
    # read it, and may change it, without a query.
    session.execute(insert(ASSESSMENTS), {**values, "answers": document})
    assessment = Assessment(**values, answer_document=document)
    make_transient_to_detached(assessment)
    session.add(assessment)
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
    existing = stored_answers(assessment)
    answers = check_answers(definition, items, existing=existing, submitting=submit)
    now = utcnow()
    for name, value in _score_fields(definition, answers).items():
        setattr(assessment, name, value)
    assessment.updated_at = now
    if submit:
        assessment.status = AssessmentStatus.SUBMITTED.value
        assessment.submitted_at = now
    assessment.answer_document = _answer_document(definition, answers)
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
    query = in_scope(
        select(Assessment).join(Organization, Organization.id == Assessment.organization_id),
        session,
        principal,
        Assessment.organization_id,
        organization_id,
    )
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


def stored_answers(assessment: Assessment | None) -> dict[str, Answer]:
    """An assessment's answers as check_answers returned them when they were stored.

    Question id -> value (NA for "not applicable") and comment, in questionnaire order;
    no answers without an assessment. New answers merge over these (``existing``).
    """
    if assessment is None:
        return {}
    return {
        item["question_id"]: Answer(NA if item["na"] else item["value"], item["comment"])
        for item in assessment.answer_document
    }


def stored_values(assessment: Assessment | None) -> dict[str, AnswerValue]:
    """Question id -> value (or NA) of an assessment's stored answers, as the engine scores
    them: ``stored_answers`` without the comments, for callers that read many assessments."""
    if assessment is None:
        return {}
    return {
        item["question_id"]: NA if item["na"] else item["value"]
        for item in assessment.answer_document
    }


def _score_fields(
    definition: QuestionnaireDefinition, answers: dict[str, Answer]
) -> dict[str, Any]:
    result = score_answers(definition, {qid: a.value for qid, a in answers.items()})
    return {"scores": result.to_dict(), "engine_version": result.engine_version}


def _answer_document(
    definition: QuestionnaireDefinition, answers: dict[str, Answer]
) -> list[dict[str, Any]]:
    """The answers (in questionnaire order) as ``Assessment.answer_document`` holds them."""
    index = definition.question_index()
    return [
        {
            "question_id": qid,
            "position": index[qid][0],
            "value": None if answer.value is NA else answer.value,
            "na": answer.value is NA,
            "comment": answer.comment,
        }
        for qid, answer in answers.items()
    ]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """One item of a batch: the stored assessment, or the error that refused it."""

    index: int
    result: Assessment | AppError


def create_assessment_batch(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    items: Sequence[Mapping[str, Any]],
) -> list[BatchOutcome]:
    """Validate and store each item on its own (a savepoint each), in order.

    One bad item never costs the good ones: its savepoint is rolled back and its error
    reported with fields named from the batch (``assessments[3].answers[2].value``).
    """
    outcomes: list[BatchOutcome] = []
    for index, raw in enumerate(items):
        where = f"assessments[{index}]"
        try:
            body = AssessmentCreate.model_validate(raw)
        except ValidationError as exc:
            outcomes.append(BatchOutcome(index, _schema_error(where, raw, exc)))
            continue
        try:
            with session.begin_nested():
                assessment = create_assessment(
                    session,
                    registry,
                    principal,
                    organization_id=body.organization_id,
                    questionnaire_id=body.questionnaire.id,
                    version=body.questionnaire.version,
                    status=body.status,
                    items=body.answers,
                )
        except AppError as exc:
            outcomes.append(BatchOutcome(index, _located(where, exc)))
            continue
        outcomes.append(BatchOutcome(index, assessment))
    return outcomes


def _located(where: str, exc: AppError) -> AppError:
    """The error with each field named from the batch's root."""
    located = type(exc)(exc.detail, **exc.extra)
    problems = exc.extra.get("errors")
    if isinstance(problems, list):
        located.extra["errors"] = [
            {**p, "field": f"{where}.{p.get('field')}" if p.get("field") else where}
            for p in problems
        ]
    return located


def _schema_error(where: str, raw: Any, exc: ValidationError) -> InvalidRequest:
    problems = []
    for error in exc.errors():
        field = field_path(error.get("loc", ()), where)
        problems.append(
            FieldError(
                field=field,
                question_id=_question_id(raw, error.get("loc", ())),
                message=f"{field}: {error.get('msg', 'is not valid')}",
            ).model_dump()
        )
    fields = ", ".join(dict.fromkeys(str(p["field"]) for p in problems))
    return InvalidRequest(f"The item has {len(problems)} problem(s): {fields}.", errors=problems)


def _question_id(raw: Any, location: Sequence[int | str]) -> str | None:
    """The question an answer error is about, when the item names one."""
    if len(location) < 2 or location[0] != "answers" or not isinstance(location[1], int):
        return None
    answers = raw.get("answers") if isinstance(raw, Mapping) else None
    if not isinstance(answers, list) or not 0 <= location[1] < len(answers):
        return None
    answer = answers[location[1]]
    question = answer.get("question_id") if isinstance(answer, Mapping) else None
    return printable(question) if isinstance(question, str) else None
