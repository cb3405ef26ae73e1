"""Roadmaps and PDF reports of submitted assessments, rendered once and then cached."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from app.api.responses import BINARY, errors
from app.db import utcnow
from app.http.context import record_of
from app.http.deps import (
    AssessmentDep,
    LookupDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    SettingsDep,
    reject_unknown_query_parameters,
)
from app.http.reports import (
    dispatch_queued,
    pdf_response,
    recheck_seconds,
    spend_report_budget,
    wait_for_prerender,
)
from app.jobs import service as jobs
from app.jobs.models import JobStatus, ReportJob
from app.reports import service
from app.reports.inputs import PlanRequest, gather_inputs, plan
from app.roadmap.schemas import RoadmapRead
from app.schemas import WHOLE_NUMBER, RequestModel
from app.text import CHECKED_TEXT, Text

router = APIRouter(
    tags=["roadmaps and reports"], dependencies=[Depends(reject_unknown_query_parameters)]
)

Targets = Annotated[
    list[Text],
    Query(
        alias="target",
        max_length=10,
        description="A target level per dimension, e.g. `target=security=4` (repeat for more). "
        "Default: one level up in every dimension.",
    ),
]
Budget = Annotated[
    int | None, Query(ge=0, le=100_000_000, description="The most the plan may cost.")
]
Excluded = Annotated[
    list[Text],
    Query(alias="exclude", max_length=50, description="Service ids the plan must not use."),
]
StaffHours = Annotated[
    int | None,
    Query(
        ge=1,
        le=10_000,
        description="Staff hours a month for the program (default: the organization's setting, "
        "else from its size band and answers).",
    ),
]
Concurrent = Annotated[
    int | None, Query(ge=1, le=20, description="Most actions run at once (default: by size).")
]
HourlyRate = Annotated[
    int | None, Query(ge=0, le=10_000, description="Cost of an internal staff hour.")
]
BudgetScope = Annotated[
    Literal["center_fees", "everything"] | None,
    Query(description="What the budget caps: the Center's fees (default) or everything."),
]
IncludeNarratives = Annotated[
    bool,
    Query(
        description="Print free-text answers and comments in the PDF (they may hold personal "
        "details; by default the appendix shows `answered (not printed)`)."
    ),
]


class ReportOptions(RequestModel):
    """What the report's roadmap is planned for."""

    targets: dict[Text, Annotated[int, Field(strict=True, ge=1, le=5), WHOLE_NUMBER]] = Field(
        default_factory=dict, description="Level per dimension; default one level up."
    )
    budget: Annotated[int, Field(strict=True, ge=0, le=100_000_000), WHOLE_NUMBER] | None = None
    exclude: list[Annotated[str, StringConstraints(max_length=64), CHECKED_TEXT]] = Field(
        default_factory=list, max_length=50
    )
    include_narratives: bool = Field(
        default=False,
        strict=True,
        description="Print free-text answers and comments in the PDF (default: not printed).",
    )


class ReportJobRead(BaseModel):
    id: uuid.UUID
    assessment_id: uuid.UUID
    status: JobStatus
    error: str | None = Field(description="Why it failed, when it did.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pdf_url: str | None = Field(description="Where to fetch the PDF once the job is done.")


def _job_read(job: ReportJob) -> ReportJobRead:
    return ReportJobRead(
        id=job.id,
        assessment_id=job.assessment_id,
        status=JobStatus(job.status),
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        pdf_url=f"/v1/reports/{job.id}/pdf" if job.status == JobStatus.DONE else None,
    )


JOB_LOCATION = {"description": "The job's URL, to poll.", "schema": {"type": "string"}}
RETRY_AFTER = {
    "description": "While the job is queued or running: seconds to wait before polling it "
    "again (3 at first, then a tenth of the time it has waited, up to 15).",
    "schema": {"type": "integer"},
}


def recheck_headers(job: ReportJob) -> dict[str, str]:
    """``Retry-After`` for a job not yet done: when its poller should look again."""
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return {"Retry-After": str(recheck_seconds(utcnow() - job.created_at))}
    return {}


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": BINARY}},
        "description": "The report as PDF.",
    }
}


@router.get(
    "/v1/assessments/{assessment_id}/roadmap",
    operation_id="getAssessmentRoadmap",
    responses=errors(404, 409, 422),
)
def get_roadmap(
    assessment: AssessmentDep,
    session: SessionDep,
    registry: RegistryDep,
    target: Targets = [],  # noqa: B006 - FastAPI copies query defaults
    budget: Budget = None,
    exclude: Excluded = [],  # noqa: B006
    staff_hours_per_month: StaffHours = None,
    concurrent_actions: Concurrent = None,
    hourly_rate: HourlyRate = None,
    budget_scope: BudgetScope = None,
) -> RoadmapRead:  # type: ignore[valid-type]  # generated from Roadmap
    """Plan the cheapest verified path from this assessment to the targets, priced for its size.

    Missing baseline controls come first; the schedule keeps to the organization's capacity.
    """
    request = PlanRequest.parse(
        target,
        budget,
        exclude,
        staff_hours_per_month=staff_hours_per_month,
        concurrent_actions=concurrent_actions,
        hourly_rate=hourly_rate,
        budget_scope=budget_scope,
    )
    inputs = gather_inputs(session, registry, assessment)
    return RoadmapRead.model_validate(plan(inputs, request).to_dict())


@router.get(
    "/v1/assessments/{assessment_id}/report.pdf",
    operation_id="getAssessmentReportPdf",
    response_class=Response,
    responses={**PDF_RESPONSE, **errors(404, 409, 422, 429, 500)},
)
def get_report_pdf(
    request_: Request,
    assessment: AssessmentDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    target: Targets = [],  # noqa: B006
    budget: Budget = None,
    exclude: Excluded = [],  # noqa: B006
    include_narratives: IncludeNarratives = False,
) -> Response:
    """The roadmap report as PDF: rendered on first request, then served from the cache.

    A render (not a cache hit) counts against the key's report budget. Without options this
    is the default report, rendered as soon as the assessment was submitted: while that
    render is still going, the request waits for it rather than rendering it again.
    """
    request = PlanRequest.parse(target, budget, exclude, include_narratives)
    wait_for_prerender(session, registry, assessment, request, settings)
    pdf = service.report_pdf(
        session,
        registry,
        assessment,
        request,
        settings,
        before_render=lambda: spend_report_budget(request_, principal, settings),
    )
    return pdf_response(pdf, f"roadmap-{assessment.id}.pdf")


@router.post(
    "/v1/assessments/{assessment_id}/reports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportJobRead,
    responses={
        202: {
            "description": "The job, queued.",
            "headers": {"Location": JOB_LOCATION, "Retry-After": RETRY_AFTER},
        },
        **errors(400, 404, 409, 413, 422, 429),
    },
)
def create_report_job(
    request_: Request,
    assessment: AssessmentDep,
    session: SessionDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    options: ReportOptions | None = None,
) -> JSONResponse:
    """Queue the report for rendering; poll the job, then fetch its PDF (counts against the
    key's report budget)."""
    options = options or ReportOptions()
    request = PlanRequest(
        dict(options.targets),
        options.budget,
        tuple(sorted(set(options.exclude))),
        options.include_narratives,
    )
    # Bad options fail now, with a 422, not later in the job; then the budget is spent.
    job = jobs.queue_report(
        session,
        registry,
        assessment,
        request,
        requested_by=principal.key_id,
        before_enqueue=lambda: spend_report_budget(request_, principal, settings),
    )
    dispatch_queued(request_, session, [job])
    record_of(request_).acted_on(job.id, job.organization_id)
    body = _job_read(job)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/v1/reports/{job.id}", **recheck_headers(job)},
    )


@router.get(
    "/v1/reports/{job_id}",
    responses={
        200: {"description": "The job.", "headers": {"Retry-After": RETRY_AFTER}},
        **errors(404),
    },
)
def get_report_job(job_id: uuid.UUID, lookup: LookupDep, response: Response) -> ReportJobRead:
    """A report job's state: queued, running, done (with its PDF URL) or failed (with why).

    While it is queued or running, ``Retry-After`` says when to poll again.
    """
    job = lookup.job(job_id)
    response.headers.update(recheck_headers(job))
    return _job_read(job)


@router.get(
    "/v1/reports/{job_id}/pdf",
    response_class=Response,
    responses={**PDF_RESPONSE, **errors(404, 409)},
)
def get_report_job_pdf(job_id: uuid.UUID, session: SessionDep, lookup: LookupDep) -> Response:
    """The PDF of a finished report job."""
    job = lookup.job(job_id)
    return pdf_response(jobs.finished_pdf(session, job), f"roadmap-{job.assessment_id}.pdf")
