"""Reading assessments for export, and each organization's latest submitted assessment.

Everything here is scoped: a key sees the organizations ``visible_organizations`` allows,
and a command-line run without a key sees them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from app.auth.service import Principal, visible_organizations
from app.errors import FieldError, InvalidRequest
from app.exports.table import ExportedAssessment, ExportLayout
from app.intake.models import Assessment, AssessmentStatus
from app.intake.service import stored_values
from app.organizations.models import Organization
from app.organizations.service import in_scope
from app.questionnaire.registry import QuestionnaireRegistry

# Rows are read from the database in slices of this many, and forgotten once converted.
READ_SLICE = 200


@dataclass(frozen=True, slots=True)
class AssessmentExport:
    """The columns and the rows of one export."""

    layout: ExportLayout
    rows: list[ExportedAssessment]


def scope_of(principal: Principal) -> ColumnElement[bool]:
    """What a key may see; everything for the operator (``Principal.system()``)."""
    return true() if principal.is_system else visible_organizations(principal)


def export_assessments(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    *,
    organization_id: uuid.UUID | None,
    status: str | None,
    questionnaire_id: str | None,
) -> AssessmentExport:
    """The assessments the key may see, filtered, by organization and then date.

    NotFound for an organization out of scope; InvalidRequest for an unknown questionnaire.
    """
    if questionnaire_id is not None and not registry.versions(questionnaire_id):
        problem = FieldError(
            field="questionnaire", message=f"questionnaire: there is no {questionnaire_id!r}"
        )
        raise InvalidRequest("The export filters are not valid.", errors=[problem.model_dump()])
    query = in_scope(
        select(Assessment, Organization.name).join(
            Organization, Organization.id == Assessment.organization_id
        ),
        session,
        principal,
        Assessment.organization_id,
        organization_id,
    )
    if status is not None:
        query = query.where(Assessment.status == status)
    if questionnaire_id is not None:
        query = query.where(Assessment.questionnaire_id == questionnaire_id)
    query = query.order_by(
        Organization.name, Organization.id, Assessment.created_at, Assessment.id
    ).execution_options(yield_per=READ_SLICE)
    rows = []
    for assessment, organization_name in session.execute(query):
        rows.append(_exported(assessment, organization_name))
        session.expunge(assessment)  # the export may be long; keep only the compact row
    versions = {(row.questionnaire_id, row.questionnaire_version) for row in rows}
    if versions:
        definitions = [registry.get(qid, version).definition for qid, version in versions]
    elif questionnaire_id is not None:
        definitions = [registry.get(questionnaire_id).definition]
    else:  # an empty export still names the columns of what is being asked now
        definitions = [loaded.definition for loaded in registry.latest()]
    return AssessmentExport(ExportLayout.of(definitions), rows)


def _exported(assessment: Assessment, organization_name: str) -> ExportedAssessment:
    scores: dict[str, Any] = assessment.scores
    return ExportedAssessment(
        id=assessment.id,
        organization_id=assessment.organization_id,
        organization_name=organization_name,
        questionnaire_id=assessment.questionnaire_id,
        questionnaire_version=assessment.questionnaire_version,
        status=assessment.status,
        submitted_at=assessment.submitted_at,
        overall_level=scores["overall_level"],
        overall_score=scores["overall_score"],
        dimensions={d["dimension_id"]: (d["score"], d["level"]) for d in scores["dimensions"]},
        answers=stored_values(assessment),
    )


@dataclass(frozen=True, slots=True)
class LatestAssessment:
    """An organization and its most recently submitted assessment, if it has one."""

    organization_id: uuid.UUID
    organization_name: str
    assessment_id: uuid.UUID | None


def latest_submitted(
    session: Session,
    principal: Principal,
    organization_ids: Sequence[uuid.UUID] | None = None,
) -> list[LatestAssessment]:
    """Every organization in scope (or the listed ones in scope), by name, with its latest
    submitted assessment: the one a roadmap for the organization is made from today."""
    ranked = (
        select(
            Assessment.id,
            Assessment.organization_id,
            func.row_number()
            .over(
                partition_by=Assessment.organization_id,
                order_by=(Assessment.submitted_at.desc(), Assessment.id.desc()),
            )
            .label("recency"),
        )
        .where(Assessment.status == AssessmentStatus.SUBMITTED.value)
        .subquery()
    )
    query = (
        select(Organization.id, Organization.name, ranked.c.id)
        .outerjoin(ranked, and_(ranked.c.organization_id == Organization.id, ranked.c.recency == 1))
        .where(scope_of(principal))
        .order_by(Organization.name, Organization.id)
    )
    if organization_ids is not None:
        query = query.where(Organization.id.in_(organization_ids))
    return [LatestAssessment(*row) for row in session.execute(query)]
