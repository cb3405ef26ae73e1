"""Reports for many organizations at once, and the list of report jobs to follow them by."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from app.api.reports import RETRY_AFTER, ReportJobRead, _job_read, recheck_headers
from app.api.responses import errors
from app.exports import batches
from app.http.deps import (
    LookupDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    SettingsDep,
    reject_unknown_query_parameters,
)
from app.http.reports import dispatch_queued, spend_report_budget
from app.jobs.models import JobStatus, ReportJob
from app.schemas import RequestModel

router = APIRouter(
    tags=["roadmaps and reports"], dependencies=[Depends(reject_unknown_query_parameters)]
)


class ReportBatchCreate(RequestModel):
    """Which organizations to render; all of the key's organizations when left out."""

    organization_ids: list[uuid.UUID] | None = Field(
        default=None,
        max_length=1000,
        description="Only these organizations. Ids the key cannot see are listed in `errors`.",
    )


class ReportJobSummary(ReportJobRead):
    """A report job with the organization it is for."""

    organization_id: uuid.UUID
    organization_name: str


class SkippedOrganizationRead(BaseModel):
    organization_id: uuid.UUID
    organization_name: str
    reason: str = Field(description="Why no report was queued, e.g. no submitted assessment.")


class BatchItemError(BaseModel):
    """A requested organization that is not there for this key (as a 404 would say)."""

    organization_id: uuid.UUID
    error: str = Field(examples=["not_found"])
    detail: str


class ReportBatchRead(BaseModel):
    jobs: list[ReportJobSummary] = Field(
        description="One job per organization, for its latest submitted assessment; poll "
        "`GET /v1/reports/{id}` (or `GET /v1/reports`) until each is done."
    )
    skipped: list[SkippedOrganizationRead]
    errors: list[BatchItemError]


class ReportJobPage(BaseModel):
    items: list[ReportJobSummary]
    total: int
    limit: int
    offset: int


def _summary(job: ReportJob, organization_name: str) -> ReportJobSummary:
    return ReportJobSummary(
        **_job_read(job).model_dump(),
        organization_id=job.organization_id,
        organization_name=organization_name,
    )


@router.post(
    "/v1/reports/batch",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        202: {"description": "The jobs, queued.", "headers": {"Retry-After": RETRY_AFTER}},
        **errors(400, 403, 413, 422, 429),
    },
)
def create_report_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    body: ReportBatchCreate | None = None,
) -> ReportBatchRead:
    """Queue the roadmap report of every organization the key manages (admins and consultants).

    Each organization with a submitted assessment gets one job for its latest one, planned
    with the organization's own roadmap settings; organizations without one are listed as
    skipped. Partner keys get 403: batches are a consultant's tool. A batch counts once
    against the key's report budget.
    """
    wanted = body.organization_ids if body is not None else None
    outcome = batches.queue_reports(session, registry, principal, wanted)
    # Refused here, the request's transaction rolls back: no job of the batch is kept.
    spend_report_budget(request, principal, settings)
    dispatch_queued(request, session, [q.job for q in outcome.queued])
    waiting = next((h for q in outcome.queued if (h := recheck_headers(q.job))), None)
    if waiting:
        response.headers.update(waiting)
    return ReportBatchRead(
        jobs=[_summary(q.job, q.organization_name) for q in outcome.queued],
        skipped=[
            SkippedOrganizationRead(
                organization_id=s.organization_id,
                organization_name=s.organization_name,
                reason=s.reason,
            )
            for s in outcome.skipped
        ],
        errors=[
            BatchItemError(organization_id=m.organization_id, error="not_found", detail=m.detail)
            for m in outcome.missing
        ],
    )


@router.get("/v1/reports", responses=errors(404))
def list_report_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    lookup: LookupDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Only this organization's jobs.")
    ] = None,
    assessment_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Only this assessment's jobs (404 when the key cannot see it), e.g. "
            "the one rendering its default report since it was submitted."
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")] = 0,
) -> ReportJobPage:
    """Report jobs of the key's organizations, newest first: follow a batch to the end."""
    if assessment_id is not None:
        lookup.assessment(assessment_id)  # the same 404 as reading the assessment
    with lookup.filtering(organization_id):
        rows, total = batches.list_jobs(
            session,
            principal,
            status=status.value if status is not None else None,
            organization_id=organization_id,
            assessment_id=assessment_id,
            limit=limit,
            offset=offset,
        )
    return ReportJobPage(
        items=[_summary(job, name) for job, name in rows], total=total, limit=limit, offset=offset
    )
