"""Storing a posted QuestionnaireResponse through the same intake as native JSON."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.errors import InvalidAnswers
from app.fhir.outcome import answer_position, issue, item_expression
from app.fhir.response import ResponseAnswer, parse_resource, read_response
from app.intake import service as intake
from app.intake.models import Assessment, AssessmentSource
from app.organizations.models import Organization
from app.organizations.service import get_organization
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
