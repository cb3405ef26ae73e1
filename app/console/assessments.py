"""The console's assessment, comparison, report-batch and export pages.

Each page calls what the matching REST route calls: the scoped lookup, the score
snapshot, ``app.reports.inputs.plan`` (GET /v1/assessments/{id}/roadmap),
``app.reports.service.report_pdf`` with the shared report budget (…/report.pdf),
``app.history.service.compare`` (…/compare/{other_id}), ``app.exports.batches``
(POST /v1/reports/batch, GET /v1/reports), ``app.jobs.service.finished_pdf``
(GET /v1/reports/{id}/pdf) and ``app.exports.service.export_assessments``
(GET /v1/exports/assessments.csv|.xlsx). Route functions carry the REST routes' names,
so a download through either door is audited under one action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from app.console.assessment_view import (
    RoadmapSummary,
    dimension_views,
    roadmap_summary,
    section_views,
)
from app.console.deps import Console, ConsoleDep, ConsoleFormDep, ConsoleLookupDep
from app.console.errors import ConsoleRoute
from app.console.pages import page, see_other
from app.errors import AppError, Conflict, NotFound
from app.exports import batches
from app.exports import service as exports
from app.forms.service import assessment_answers
from app.history.service import compare, organization_history
from app.http.context import record_of
from app.http.deps import RegistryDep, ScopedLookup, SessionDep, SettingsDep
from app.http.exports import csv_download, xlsx_download
from app.http.reports import dispatch_queued, pdf_response, spend_report_budget
from app.intake.models import Assessment, AssessmentStatus
from app.jobs import service as jobs
from app.jobs.models import JobStatus, ReportJob
from app.organizations.service import list_organizations
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports import service as reports
from app.reports.inputs import PlanRequest, gather_inputs, plan
from app.text import text_problem
from app.web.errors import WebPageError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

JOBS_SHOWN = 50  # the newest report jobs the reports page lists
MAX_BATCH = 1000  # as POST /v1/reports/batch takes


def _id(value: str, what: str) -> uuid.UUID:
    """A path or query id; a value that is not one names nothing (404, as in the API)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"There is no {what} {value[:40]!r}.") from None


def assessment_in_path(assessment_id: str, lookup: ConsoleLookupDep) -> Assessment:
    """The assessment in the path, if the user may see it (404 otherwise, as in the API)."""
    return lookup.assessment(_id(assessment_id, "assessment"))


AssessmentDep = Annotated[Assessment, Depends(assessment_in_path)]


# -- one assessment -----------------------------------------------------------------------


@router.get("/console/assessments/{assessment_id}")
def assessment_page(
    request: Request,
    console: ConsoleDep,
    assessment: AssessmentDep,
    lookup: ConsoleLookupDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """A submitted assessment's levels, reasons, gates, answers and roadmap; a draft's
    answers so far and its incomplete sections."""
    return _assessment_page(request, console, lookup, session, registry, assessment)


def _assessment_page(
    request: Request,
    console: Console,
    lookup: ScopedLookup,
    session: Session,
    registry: QuestionnaireRegistry,
    assessment: Assessment,
    *,
    other: str = "",
    compare_error: str | None = None,
    status_code: int = 200,
) -> Response:
    organization = lookup.organization(assessment.organization_id)
    definition = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    submitted = assessment.status == AssessmentStatus.SUBMITTED
    roadmap: RoadmapSummary | None = None
    roadmap_problem: str | None = None
    if submitted:
        try:
            # As GET /v1/assessments/{id}/roadmap without options: the stored settings apply.
            inputs = gather_inputs(session, registry, assessment)
            roadmap = roadmap_summary(plan(inputs, PlanRequest()))
        except AppError as exc:
            roadmap_problem = exc.detail
    others = [
        entry
        for entry in organization_history(session, organization).items
        if entry.assessment_id != assessment.id
    ]
    errors = {"other": compare_error} if compare_error else {}
    return page(
        request,
        "console/assessment.html",
        console,
        status_code=status_code,
        title=f"Assessment of {organization.name}",
        section="portfolio",
        assessment=assessment,
        organization=organization,
        questionnaire=definition.definition,
        submitted=submitted,
        scores=assessment.scores,
        dimensions=dimension_views(definition.definition, assessment.scores),
        sections=section_views(assessment_answers(definition.definition, assessment)),
        roadmap=roadmap,
        roadmap_problem=roadmap_problem,
        others=others,
        other=other,
        errors=errors,
        export_query=urlencode({"organization_id": str(organization.id), "status": "all"}),
    )


@router.get("/console/assessments/{assessment_id}/report.pdf")
def get_report_pdf(
    request: Request,
    console: ConsoleDep,
    assessment: AssessmentDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    """The roadmap report PDF, as GET /v1/assessments/{id}/report.pdf gives it; a render
    (not a cache hit) spends the user's report budget, the one its API door spends."""
    pdf = reports.report_pdf(
        session,
        registry,
        assessment,
        PlanRequest(),
        settings,
        before_render=lambda: spend_report_budget(request, console.principal, settings),
    )
    return pdf_response(pdf, f"roadmap-{assessment.id}.pdf")


@router.get("/console/assessments/{assessment_id}/compare")
def compare_page(
    request: Request,
    console: ConsoleDep,
    assessment: AssessmentDep,
    lookup: ConsoleLookupDep,
    session: SessionDep,
    registry: RegistryDep,
    other: str = "",
) -> Response:
    """The change from this assessment to another, per dimension and per question."""
    chosen = other.strip()
    problem = _other_problem(chosen, assessment)
    if problem is not None:
        return _assessment_page(
            request,
            console,
            lookup,
            session,
            registry,
            assessment,
            other=chosen,
            compare_error=problem,
            status_code=422,
        )
    second = lookup.assessment(uuid.UUID(chosen))
    context: dict[str, Any] = {
        "title": "Compare assessments",
        "section": "portfolio",
        "assessment": assessment,
        "other": second,
        "organization": lookup.organization(assessment.organization_id),
    }
    try:
        comparison = compare(registry, assessment, second)
    except Conflict as exc:
        return page(
            request,
            "console/compare.html",
            console,
            status_code=409,
            comparison=None,
            problem=exc.detail,
            **context,
        )
    return page(request, "console/compare.html", console, comparison=comparison, **context)


def _other_problem(chosen: str, assessment: Assessment) -> str | None:
    if not chosen:
        return "Choose the assessment to compare this one with."
    try:
        other_id = uuid.UUID(chosen)
    except ValueError:
        return "Choose one of the listed assessments to compare with."
    if other_id == assessment.id:
        return "Choose another assessment: this one compares with itself unchanged."
    return None


# -- report batches ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the listed jobs have come: n of m done, and how many failed."""

    done: int
    failed: int
    total: int

    @property
    def finished(self) -> bool:
        return self.done + self.failed == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "failed": self.failed,
            "total": self.total,
            "finished": self.finished,
        }


def _latest(value: str | None) -> int | None:
    """The ``latest`` query: how many of the newest jobs the page follows (a batch's size)."""
    if value is None or not value.isdigit():
        return None
    return min(max(int(value), 1), MAX_BATCH)


def _jobs(
    session: Session, console: Console, latest: int | None
) -> tuple[list[tuple[ReportJob, str]], int, Progress]:
    rows, total = batches.list_jobs(
        session,
        console.principal,
        status=None,
        organization_id=None,
        limit=latest or JOBS_SHOWN,
        offset=0,
    )
    statuses = [job.status for job, _ in rows]
    progress = Progress(
        done=statuses.count(JobStatus.DONE),
        failed=statuses.count(JobStatus.FAILED),
        total=len(rows),
    )
    return rows, total, progress


def _reports_page(
    request: Request,
    console: Console,
    session: Session,
    *,
    latest: int | None = None,
    chosen: frozenset[str] = frozenset(),
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    organizations, _ = list_organizations(session, console.principal, limit=None, offset=0)
    rows, total, progress = _jobs(session, console, latest)
    return page(
        request,
        "console/reports.html",
        console,
        status_code=status_code,
        title="Reports and exports",
        section="reports",
        organizations=organizations,
        chosen=chosen,
        errors={"organization_id": error} if error else {},
        jobs=rows,
        total_jobs=total,
        progress=progress,
        latest=latest,
        queued=request.query_params.get("queued"),
        skipped=request.query_params.get("skipped"),
        missing=request.query_params.get("missing"),
    )


@router.get("/console/reports")
def reports_page(
    request: Request, console: ConsoleDep, session: SessionDep, latest: str | None = None
) -> Response:
    """The form to queue reports for many organizations, and the report jobs' progress."""
    return _reports_page(request, console, session, latest=_latest(latest))


@router.get("/console/reports/progress.json")
def report_progress(
    console: ConsoleDep, session: SessionDep, latest: str | None = None
) -> JSONResponse:
    """The reports page's progress as JSON, for console-progress.js to poll."""
    _, _, progress = _jobs(session, console, _latest(latest))
    return JSONResponse(progress.to_dict(), headers={"Cache-Control": "no-store"})


@router.post("/console/reports")
def create_report_batch(
    request: Request,
    console: ConsoleDep,
    fields: ConsoleFormDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    """Queue a report for each chosen organization, as POST /v1/reports/batch does."""
    values = [v.strip() for v in fields.get("organization_id", [])]
    chosen = frozenset(values)
    problem = _batch_problem(values)
    if problem is not None:
        return _reports_page(
            request, console, session, chosen=chosen, error=problem, status_code=422
        )
    wanted = [uuid.UUID(v) for v in values]
    outcome = batches.queue_reports(session, registry, console.principal, wanted)
    # Refused here, the request's transaction rolls back: no job of the batch is kept.
    spend_report_budget(request, console.principal, settings)
    dispatch_queued(request, session, [q.job for q in outcome.queued])
    record_of(request).detail = {
        "queued": len(outcome.queued),
        "skipped": len(outcome.skipped),
        "missing": len(outcome.missing),
        "job_ids": [str(q.job.id) for q in outcome.queued],
    }
    # The page follows the newest jobs, as many as were just queued (all when none were).
    follow = {"latest": str(len(outcome.queued))} if outcome.queued else {}
    query = {
        **follow,
        "queued": str(len(outcome.queued)),
        "skipped": str(len(outcome.skipped)),
        "missing": str(len(outcome.missing)),
    }
    return see_other(f"/console/reports?{urlencode(query)}#progress")


def _batch_problem(values: list[str]) -> str | None:
    if not values or not any(values):
        return "Choose at least one organization to make reports for."
    if len(values) > MAX_BATCH:
        return f"Choose at most {MAX_BATCH} organizations at once."
    for value in values:
        try:
            uuid.UUID(value)
        except ValueError:
            return "Choose organizations from the list."
    return None


@router.get("/console/reports/{job_id}/report.pdf")
def get_report_job_pdf(job_id: str, lookup: ConsoleLookupDep, session: SessionDep) -> Response:
    """The PDF of a finished report job, as GET /v1/reports/{id}/pdf gives it."""
    job = lookup.job(_id(job_id, "report job"))
    return pdf_response(jobs.finished_pdf(session, job), f"roadmap-{job.assessment_id}.pdf")


# -- exports ------------------------------------------------------------------------------

_STATUSES = {"submitted": "submitted", "draft": "draft", "all": None}


def _export(
    request: Request,
    console: Console,
    lookup: ScopedLookup,
    session: Session,
    registry: QuestionnaireRegistry,
) -> exports.AssessmentExport:
    """The export the query asks for (the API's filters), within the user's organizations."""
    query = request.query_params
    for name, value in query.multi_items():
        if text_problem(value) is not None:
            raise _bad_filter(name, "is not text")
    organization_id = None
    if query.get("organization_id"):
        organization_id = _id(query["organization_id"], "organization")
    status = query.get("status") or "submitted"
    if status not in _STATUSES:
        raise _bad_filter("status", "must be submitted, draft or all")
    questionnaire = query.get("questionnaire") or None
    if questionnaire is not None and len(questionnaire) > 64:
        raise _bad_filter("questionnaire", "is longer than 64 characters")
    with lookup.filtering(organization_id):
        return exports.export_assessments(
            session,
            registry,
            console.principal,
            organization_id=organization_id,
            status=_STATUSES[status],
            questionnaire_id=questionnaire,
        )


def _bad_filter(name: str, problem: str) -> WebPageError:
    return WebPageError(
        422,
        "The export's filters are not valid",
        f"The filter {name!r} {problem}.",
        "Use the export links on the reports or assessment pages.",
    )


@router.get("/console/exports/assessments.csv")
def export_csv(
    request: Request,
    console: ConsoleDep,
    lookup: ConsoleLookupDep,
    session: SessionDep,
    registry: RegistryDep,
) -> StreamingResponse:
    """The assessments the user can see as CSV, as GET /v1/exports/assessments.csv."""
    return csv_download(_export(request, console, lookup, session, registry))


@router.get("/console/exports/assessments.xlsx")
def export_xlsx(
    request: Request,
    console: ConsoleDep,
    lookup: ConsoleLookupDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """The assessments the user can see as an Excel workbook, as the API's .xlsx."""
    return xlsx_download(_export(request, console, lookup, session, registry))
