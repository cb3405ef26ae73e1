"""Assessments: answers for one organization and questionnaire version, with their scores."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from pydantic_core import to_json

from app.api.responses import errors
from app.config import PROJECT_ROOT
from app.http.context import record_of
from app.http.deps import (
    AssessmentDep,
    LookupDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    reject_unknown_query_parameters,
)
from app.http.reports import queue_prerender, report_link
from app.intake import service
from app.intake.identifiers import IdentifierWarning, identifier_warnings
from app.intake.models import Assessment
from app.intake.schemas import (
    AnswerIn,
    AssessmentBatchCreate,
    AssessmentBatchItem,
    AssessmentBatchResult,
    AssessmentCreate,
    AssessmentPage,
    AssessmentRead,
    AssessmentSummary,
    AssessmentUpdate,
    QuestionnaireVersionRef,
)
from app.jobs.models import JobPriority
from app.questionnaire.registry import QuestionnaireRegistry

router = APIRouter(
    prefix="/v1/assessments",
    tags=["assessments"],
    dependencies=[Depends(reject_unknown_query_parameters)],
)

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]


def _example_body() -> dict[str, Any]:
    path = PROJECT_ROOT / "examples" / "academic-medical-center.json"
    example = json.loads(path.read_text(encoding="utf-8"))
    return {"organization_id": "0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11", **example}


_EXAMPLES = {
    "submitted": {
        "summary": "A complete, submitted assessment (examples/academic-medical-center.json)",
        "value": _example_body(),
    },
    "draft": {
        "summary": "A partial draft, to finish later",
        "value": {
            "organization_id": "0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11",
            "questionnaire": {"id": "hospital-social-media"},
            "status": "draft",
            "answers": _example_body()["answers"][:3],
        },
    },
}


def assessment_json(
    assessment: Assessment,
    status_code: int = 200,
    warnings: list[IdentifierWarning] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The API view of a stored assessment (AssessmentRead), with its score snapshot.

    The stored scores are already JSON; they go out as they are rather than through a
    second validation of the whole explanation, the largest part of every answer.
    """
    body = {
        "id": assessment.id,
        "organization_id": assessment.organization_id,
        "questionnaire": {
            "id": assessment.questionnaire_id,
            "version": assessment.questionnaire_version,
        },
        "status": assessment.status,
        "source": assessment.source,
        "created_at": assessment.created_at,
        "updated_at": assessment.updated_at,
        "submitted_at": assessment.submitted_at,
        "answers": [
            {
                "question_id": a["question_id"],
                "value": a["value"],
                "na": a["na"],
                "comment": a["comment"],
            }
            for a in assessment.answer_document
        ],
        "scores": assessment.scores,
        "warnings": [w.to_dict() for w in warnings or []],
    }
    return Response(
        to_json(body), status_code=status_code, media_type="application/json", headers=headers
    )


def _summary(assessment: Assessment) -> AssessmentSummary:
    dimensions = assessment.scores["dimensions"]
    return AssessmentSummary(
        id=assessment.id,
        organization_id=assessment.organization_id,
        questionnaire=QuestionnaireVersionRef(
            id=assessment.questionnaire_id, version=assessment.questionnaire_version
        ),
        status=assessment.status,
        created_at=assessment.created_at,
        submitted_at=assessment.submitted_at,
        overall_level=assessment.scores["overall_level"],
        levels={d["dimension_id"]: d["level"] for d in dimensions},
        scores={d["dimension_id"]: d["score"] for d in dimensions},
    )


# The pre-render of a submitted assessment (app.http.reports.queue_prerender), for clients.
REPORT_LINK = {
    "Link": {
        "description": 'For a submitted assessment: `</v1/reports/{job_id}>; rel="report"`, '
        "the job that renders its default report (the PDF `report.pdf` gives without "
        "options) at once; poll it, or simply fetch `report.pdf` once it is done.",
        "schema": {"type": "string"},
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentRead,
    responses={
        201: {"description": "The stored assessment, with its scores.", "headers": REPORT_LINK},
        **errors(400, 404, 413, 422),
    },
)
def create_assessment(
    body: Annotated[AssessmentCreate, Body(openapi_examples=_EXAMPLES)],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
    lookup: LookupDep,
) -> Response:
    """Store answers for an organization and return their scores; submitted must be complete."""
    assessment = service.create_assessment(
        session,
        registry,
        principal,
        organization_id=body.organization_id,
        questionnaire_id=body.questionnaire.id,
        version=body.questionnaire.version,
        status=body.status,
        items=body.answers,
        organization=lookup.organization(body.organization_id),
    )
    job = queue_prerender(request, session, assessment, principal.key_id, JobPriority.SINGLE)
    record_of(request).acted_on(assessment.id, assessment.organization_id)
    return assessment_json(
        assessment,
        status.HTTP_201_CREATED,
        _warnings(registry, assessment, body.answers),
        headers=report_link(job),
    )


def _warnings(
    registry: QuestionnaireRegistry, assessment: Assessment, items: list[AnswerIn]
) -> list[IdentifierWarning]:
    definition = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    return identifier_warnings(definition.definition, items)


@router.post("/batch", responses=errors(400, 413, 422))
def create_assessment_batch(
    body: AssessmentBatchCreate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> AssessmentBatchResult:
    """Store up to 500 assessments, each on its own; the result gives each item's outcome.

    Always 200 when the batch itself is well-formed: an item that fails (invalid answers,
    an organization this key cannot see) is reported in its place, and the others are stored.
    """
    outcomes = service.create_assessment_batch(session, registry, principal, body.assessments)
    items = [
        _batch_item(
            outcome,
            queue_prerender(request, session, outcome.result, principal.key_id, JobPriority.BATCH)
            if isinstance(outcome.result, Assessment)
            else None,
        )
        for outcome in outcomes
    ]
    created = [o.result.id for o in outcomes if isinstance(o.result, Assessment)]
    record_of(request).detail = {
        "created": len(created),
        "failed": len(items) - len(created),
        "assessment_ids": [str(i) for i in created],
    }
    return AssessmentBatchResult(
        created=len(created), failed=len(items) - len(created), items=items
    )


def _batch_item(outcome: service.BatchOutcome, report_job: uuid.UUID | None) -> AssessmentBatchItem:
    if isinstance(outcome.result, Assessment):
        return AssessmentBatchItem(
            index=outcome.index,
            status="created",
            assessment=_summary(outcome.result),
            report_job_id=report_job,
        )
    body = outcome.result.body()
    return AssessmentBatchItem(
        index=outcome.index,
        status="error",
        error=body["error"],
        detail=body["detail"],
        errors=body.get("errors"),
    )


@router.get("", responses=errors(404, 422))
def list_assessments(
    session: SessionDep,
    principal: PrincipalDep,
    lookup: LookupDep,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Only this organization's.")
    ] = None,
    status: Annotated[Literal["draft", "submitted"] | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AssessmentPage:
    """List the assessments this key may see, newest first, with their levels."""
    with lookup.filtering(organization_id):
        rows, total = service.list_assessments(
            session,
            principal,
            organization_id=organization_id,
            status=status,
            limit=limit,
            offset=offset,
        )
    return AssessmentPage(
        items=[_summary(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{assessment_id}", response_model=AssessmentRead, responses=errors(404))
def get_assessment(assessment: AssessmentDep) -> Response:
    """Get an assessment: answers, scores, levels and the explanation of each level."""
    return assessment_json(assessment)


@router.patch(
    "/{assessment_id}",
    response_model=AssessmentRead,
    responses={
        200: {"description": "The assessment as it now is.", "headers": REPORT_LINK},
        **errors(400, 404, 409, 413, 422),
    },
)
def update_assessment(
    assessment_id: uuid.UUID,
    body: AssessmentUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
    lookup: LookupDep,
) -> Response:
    """Change a draft's answers (the given questions only); `status: submitted` submits it."""
    assessment = lookup.assessment(assessment_id, for_update=True)
    submit = body.status == "submitted"
    updated = service.update_assessment(
        session, registry, assessment, items=body.answers, submit=submit
    )
    job = (
        queue_prerender(request, session, updated, principal.key_id, JobPriority.SINGLE)
        if submit
        else None
    )
    return assessment_json(
        updated, warnings=_warnings(registry, updated, body.answers), headers=report_link(job)
    )


@router.post(
    "/{assessment_id}/submit",
    response_model=AssessmentRead,
    responses={
        200: {"description": "The submitted assessment.", "headers": REPORT_LINK},
        **errors(404, 409, 422),
    },
)
def submit_assessment(
    assessment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
    lookup: LookupDep,
) -> Response:
    """Submit a draft: every required question must be answered; it is then immutable."""
    assessment = lookup.assessment(assessment_id, for_update=True)
    submitted = service.update_assessment(session, registry, assessment, items=[], submit=True)
    job = queue_prerender(request, session, submitted, principal.key_id, JobPriority.SINGLE)
    return assessment_json(submitted, headers=report_link(job))
