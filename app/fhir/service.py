"""Storing a posted QuestionnaireResponse through the same intake as native JSON, and
finding stored responses and published questionnaires for FHIR search."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select
from sqlalchemy.orm import Session

from app.auth.service import Principal, visible_organizations
from app.errors import InvalidAnswers
from app.fhir.meta import Version
from app.fhir.outcome import answer_position, issue, item_expression
from app.fhir.response import ResponseAnswer, parse_resource, read_response
from app.fhir.search import Instant, Page, QuestionnaireFilter, ResponseFilter
from app.intake import service as intake
from app.intake.models import Assessment, AssessmentSource
from app.organizations.models import Organization
from app.organizations.service import get_organization
from app.questionnaire.loader import LoadedDefinition
from app.questionnaire.models import QuestionnaireVersion
from app.questionnaire.registry import QuestionnaireRegistry


def create_from_response(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    body: bytes,
    find_organization: Callable[[uuid.UUID], Organization] | None = None,
) -> Assessment:
    """Check, score and store the assessment a QuestionnaireResponse body describes.

    The organization's scope is checked before the answers, as the native route does, so a
    key learns nothing from posting answers for an organization it cannot see.
    ``find_organization`` replaces the scoped lookup (the API's also notes denials).
    """
    resource = parse_resource(body)
    request = read_response(
        resource,
        registry,
        before_answers=find_organization
        or (lambda organization_id: get_organization(session, principal, organization_id)),
    )
    try:
        return intake.create_assessment(
            session,
            registry,
            principal,
            organization_id=request.organization_id,
            questionnaire_id=request.definition.id,
            version=request.definition.version,
            status=request.status,
            items=request.answers,
            source=AssessmentSource.FHIR,
        )
    except InvalidAnswers as error:
        issues = _answer_issues(error.extra.get("errors", []), request.answers)
        raise InvalidAnswers(error.detail, issues=issues) from None


# Which part of the item an intake error is about: its answer, or its linkId.
_SUFFIXES = {"value": ".answer", "na": ".answer", "question_id": ".linkId"}


def _answer_issues(
    errors: list[dict[str, Any]], answers: list[ResponseAnswer]
) -> list[dict[str, Any]]:
    """Intake's errors, which name positions in its answer list, as issues on the items."""
    issues = []
    for error in errors:
        link_id = error.get("question_id") or ""
        position = answer_position(error["field"])
        if position is None:  # a question left out: nowhere in the resource to point at
            issues.append(issue("required", error["message"], [item_expression(link_id)]))
            continue
        where = answers[position].expression + _SUFFIXES.get(error["field"].rpartition(".")[2], "")
        issues.append(issue("value", error["message"], [where, item_expression(link_id)]))
    return issues


# -- search -----------------------------------------------------------------------------------


def search_responses(
    session: Session, principal: Principal, wanted: ResponseFilter, page: Page
) -> tuple[list[Assessment], int]:
    """A page of the assessments the filter matches, oldest first, and their total.

    Only organizations the principal may see are searched, so a subject out of scope
    matches nothing, exactly like one that does not exist.
    """
    if wanted.matches_nothing():
        return [], 0
    query = (
        select(Assessment)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(visible_organizations(principal))
    )
    for ids in wanted.ids:
        query = query.where(Assessment.id.in_(ids))
    for organizations in wanted.subjects:
        query = query.where(Assessment.organization_id.in_(organizations))
    for questionnaires in wanted.questionnaires:
        query = query.where(or_(*(_answers(*reference) for reference in questionnaires)))
    for instant in wanted.authored:
        query = query.where(_authored(instant))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if page.count == 0 or page.offset >= total:
        return [], total
    rows = session.scalars(
        query.order_by(Assessment.created_at, Assessment.id).limit(page.count).offset(page.offset)
    )
    return list(rows), total


def _answers(questionnaire_id: str, version: int | None) -> ColumnElement[bool]:
    condition = Assessment.questionnaire_id == questionnaire_id
    if version is None:
        return condition
    return and_(condition, Assessment.questionnaire_version == version)


def _authored(instant: Instant) -> ColumnElement[bool]:
    # What a QuestionnaireResponse's `authored` says: when it was submitted, or last saved.
    authored = func.coalesce(Assessment.submitted_at, Assessment.updated_at)
    start, end = instant.start, instant.end
    match instant.prefix:
        case "eq":
            return and_(authored >= start, authored < end)
        case "ne":
            return not_(and_(authored >= start, authored < end))
        case "gt" | "sa":
            return authored >= end
        case "lt" | "eb":
            return authored < start
        case "ge":
            return authored >= start
        case "le":
            return authored < end
    return false()  # pragma: no cover - the parser only makes the prefixes above


def search_questionnaires(
    registry: QuestionnaireRegistry, wanted: QuestionnaireFilter
) -> list[LoadedDefinition]:
    """The published versions the filter matches, by id then version."""
    found = []
    for latest in registry.latest():
        questionnaire_id = latest.definition.id
        for loaded in registry.versions(questionnaire_id):
            version = loaded.definition.version
            if wanted.matches(questionnaire_id, version, loaded is latest):
                found.append(loaded)
    return found


def questionnaire_versions(
    session: Session, definitions: list[LoadedDefinition]
) -> dict[tuple[str, int], Version]:
    """Each questionnaire version's meta: its version number, and when it was published."""
    if not definitions:
        return {}
    keys = {(d.definition.id, d.definition.version) for d in definitions}
    rows = session.execute(
        select(
            QuestionnaireVersion.questionnaire_id,
            QuestionnaireVersion.version,
            QuestionnaireVersion.published_at,
        ).where(QuestionnaireVersion.questionnaire_id.in_({k[0] for k in keys}))
    )
    return {
        (qid, version): Version(str(version), published_at)
        for qid, version, published_at in rows
        if (qid, version) in keys
    }


def response_version(assessment: Assessment) -> Version:
    """The version of an assessment's QuestionnaireResponse."""
    return Version.of_change(assessment.updated_at)
