"""Report jobs in the database: queue, find within scope, claim, finish, recover.

``queue_report`` is how every door asks for a report to be rendered later (a single job,
a batch); ``queue_default_report`` is how a door that has just stored a submitted
assessment has its default report rendered before anyone asks for it. The functions below
keep the job rows. They flush, never commit: the caller's unit of work (the request, or a
runner's ``transaction``) commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from app.auth.service import Principal, visible_organizations
from app.db import new_id, utcnow
from app.errors import Conflict, NotFound
from app.intake.models import Assessment
from app.jobs.models import JobPriority, JobStatus, ReportJob
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.cache import cached_report, is_cached
from app.reports.inputs import PlanRequest, cache_key, gather_inputs, plan

MAX_ATTEMPTS = 3

# The key of a job queued before its inputs were read (a pre-render, queued in the submit):
# the runner that reads the job sets the real one (``on_read``) before it can finish, so a
# done job always has its real key. No report is ever stored under it (those are SHA-256).
PENDING_KEY = "pending"
# The options of the report a download asks for when it asks for nothing in particular:
# the results page's PDF, and report.pdf without query parameters.
DEFAULT_REPORT = PlanRequest()
_DEFAULT_OPTIONS = DEFAULT_REPORT.to_dict()
_IN_FLIGHT = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


class ReportState(StrEnum):
    """Where an assessment's report stands for someone about to download it."""

    PREPARING = "preparing"  # a job is rendering it (or about to): it is ready in seconds
    READY = "ready"  # cached, or nothing is under way and a download renders it
    FAILED = "failed"  # the job that was to render it failed; a download tries again


def queue_report(
    session: Session,
    registry: QuestionnaireRegistry,
    assessment: Assessment,
    request: PlanRequest,
    *,
    requested_by: uuid.UUID | None,
    priority: JobPriority = JobPriority.SINGLE,
    check_plan: bool = True,
    before_enqueue: Callable[[], None] | None = None,
) -> ReportJob:
    """A job for an assessment's report, in the caller's transaction (flushed).

    Reading the inputs raises AppError (a draft, no catalogue). With ``check_plan``,
    options the planner refuses fail now with InvalidRequest (422), not later in the job;
    a batch leaves it out, as it plans with the organizations' own checked settings.
    ``before_enqueue`` runs once the report is known to be possible (a rate limit may
    refuse it). The job is done at once when the report is cached already; putting it on
    a worker queue is the caller's (``app.jobs.queue.dispatch``).
    """
    inputs = gather_inputs(session, registry, assessment)
    if check_plan:
        plan(inputs, request)
    if before_enqueue is not None:
        before_enqueue()
    return enqueue(
        session,
        assessment_id=assessment.id,
        organization_id=assessment.organization_id,
        options=request.to_dict(),
        cache_key=cache_key(inputs, request),
        requested_by=requested_by,
        priority=priority,
    )


def queue_default_report(
    session: Session,
    assessment: Assessment,
    *,
    requested_by: uuid.UUID | None,
    priority: JobPriority,
) -> uuid.UUID:
    """A queued job for the default report of an assessment that was just submitted, in the
    caller's transaction: one row insert, nothing read; the job's id.

    Its inputs and cache key are not worked out here (that is the planner's and the
    benchmark's work, milliseconds a submit does not spend): the job carries PENDING_KEY
    until the runner reads it. A report that is already cached is found then, and the job
    finishes without a render.
    """
    job_id = new_id()
    # One prepared statement on the table: an ORM object, or an insert built with its
    # values, would cost the submit several times what the row itself does.
    session.execute(
        _INSERT_JOB,
        {
            "id": job_id,
            "assessment_id": assessment.id,
            "organization_id": assessment.organization_id,
            "options": _DEFAULT_OPTIONS,
            "cache_key": PENDING_KEY,
            "status": JobStatus.QUEUED.value,
            "priority": priority.value,
            "attempts": 0,
            "requested_by_key_id": requested_by,
            "created_at": utcnow(),
        },
    )
    return job_id


_INSERT_JOB = insert(ReportJob.metadata.tables[ReportJob.__tablename__])


def enqueue(
    session: Session,
    *,
    assessment_id: uuid.UUID,
    organization_id: uuid.UUID,
    options: dict[str, object],
    cache_key: str,
    requested_by: uuid.UUID | None,
    priority: JobPriority = JobPriority.SINGLE,
) -> ReportJob:
    """A new job in the caller's transaction; already done when the report is cached."""
    cached = is_cached(session, cache_key)
    now = utcnow()
    job = ReportJob(
        assessment_id=assessment_id,
        organization_id=organization_id,
        options=options,
        cache_key=cache_key,
        status=JobStatus.DONE.value if cached else JobStatus.QUEUED.value,
        priority=priority.value,
        requested_by_key_id=requested_by,
        created_at=now,
        finished_at=now if cached else None,
    )
    session.add(job)
    session.flush()
    return job


def _matches(job: ReportJob, key: str, request: PlanRequest) -> bool:
    """Whether ``job`` renders (or rendered) the report under ``key``: its key says so, or
    it has not been read yet and was asked for with the same options."""
    if job.cache_key == key:
        return True
    return job.cache_key == PENDING_KEY and PlanRequest.from_dict(job.options) == request


def _jobs_for(session: Session, assessment_id: uuid.UUID, limit: int = 20) -> list[ReportJob]:
    return list(
        session.scalars(
            select(ReportJob)
            .where(ReportJob.assessment_id == assessment_id)
            .order_by(ReportJob.created_at.desc(), ReportJob.id)
            .limit(limit)
        )
    )


def report_state(
    session: Session,
    assessment_id: uuid.UUID,
    key: str,
    request: PlanRequest = DEFAULT_REPORT,
    *,
    queued_patience: timedelta | None = None,
) -> ReportState:
    """Where the assessment's report under ``key`` stands: cached, being rendered, failed.

    The newest job for it decides. A job queued longer ago than ``queued_patience`` no
    longer counts as under way when no runner is taking jobs (a download then renders
    it); while runners are busy with a backlog it waits its turn, so that downloads do
    not render in the API processes beside them.
    """
    if is_cached(session, key):
        return ReportState.READY
    for job in _jobs_for(session, assessment_id):
        if not _matches(job, key, request):
            continue
        if job.status == JobStatus.RUNNING:
            return ReportState.PREPARING
        if job.status == JobStatus.QUEUED:
            waiting = utcnow() - job.created_at
            if queued_patience is None or waiting <= queued_patience:
                return ReportState.PREPARING
            if runners_at_work(session, since=utcnow() - queued_patience):
                return ReportState.PREPARING
            return ReportState.READY
        return ReportState.FAILED if job.status == JobStatus.FAILED else ReportState.READY
    return ReportState.READY


def runners_at_work(session: Session, *, since: datetime) -> bool:
    """Whether some runner took a job it is still rendering at or after ``since``."""
    found = session.scalar(
        select(ReportJob.id)
        .where(ReportJob.status == JobStatus.RUNNING.value, ReportJob.heartbeat_at >= since)
        .limit(1)
    )
    return found is not None


def in_flight(
    session: Session, assessment_id: uuid.UUID, key: str, request: PlanRequest
) -> ReportJob | None:
    """The newest queued or running job that renders the assessment's report under ``key``."""
    found = session.scalars(
        select(ReportJob)
        .where(ReportJob.assessment_id == assessment_id, ReportJob.status.in_(_IN_FLIGHT))
        .order_by(ReportJob.created_at.desc(), ReportJob.id)
        .limit(20)
    )
    return next((job for job in found if _matches(job, key, request)), None)


def has_in_flight(session: Session, assessment_id: uuid.UUID) -> bool:
    """Whether any job of the assessment is queued or running (one indexed look-up)."""
    found = session.scalar(
        select(ReportJob.id)
        .where(ReportJob.assessment_id == assessment_id, ReportJob.status.in_(_IN_FLIGHT))
        .limit(1)
    )
    return found is not None


def job_outcome(session: Session, job_id: uuid.UUID) -> tuple[str, str, datetime | None]:
    """A job's status, cache key and start, read afresh."""
    status, key, started_at = session.execute(
        select(ReportJob.status, ReportJob.cache_key, ReportJob.started_at).where(
            ReportJob.id == job_id
        )
    ).one()
    return status, key, started_at


def get_job(session: Session, principal: Principal, job_id: uuid.UUID) -> ReportJob:
    """A job for an organization the principal can see; NotFound otherwise."""
    job = session.scalar(
        select(ReportJob)
        .join(Organization, Organization.id == ReportJob.organization_id)
        .where(ReportJob.id == job_id, visible_organizations(principal))
    )
    if job is None:
        raise NotFound(f"There is no report job {job_id} that this key can see.")
    return job


def finished_pdf(session: Session, job: ReportJob) -> bytes:
    """The PDF a finished job rendered; Conflict while it is not done, NotFound once the
    cache no longer holds it."""
    if job.status != JobStatus.DONE:
        detail = f"The report is {job.status}" + (
            f": {job.error}" if job.error else "; try again shortly."
        )
        raise Conflict(detail, status=job.status)
    pdf = cached_report(session, job.cache_key)
    if pdf is None:
        raise NotFound("The rendered report is no longer stored; request it again.")
    return pdf


# Which queued job goes first: the highest priority, then the oldest (as on the worker
# queue, where procrastinate takes the highest priority, then the earliest deferred).
_QUEUE_ORDER = (ReportJob.priority.desc(), ReportJob.created_at, ReportJob.id)


def claim_next(session: Session) -> ReportJob | None:
    """Mark the next queued job (``_QUEUE_ORDER``) running and return it, or None; safe
    with many runners."""
    while True:
        job_id = session.scalar(
            select(ReportJob.id)
            .where(ReportJob.status == JobStatus.QUEUED.value)
            .order_by(*_QUEUE_ORDER)
            .limit(1)
        )
        if job_id is None:
            return None
        now = utcnow()
        claimed = session.execute(
            update(ReportJob)
            .where(ReportJob.id == job_id, ReportJob.status == JobStatus.QUEUED.value)
            .values(
                status=JobStatus.RUNNING.value,
                started_at=now,
                heartbeat_at=now,
                attempts=ReportJob.attempts + 1,
            )
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return session.get_one(ReportJob, job_id, populate_existing=True)


def claim(session: Session, job_id: uuid.UUID, *, worker: str, queue_job_id: int) -> bool:
    """Mark one job running for a queue delivery; False when the delivery must not render it.

    A queued job is taken. A running job is taken only by a later attempt of the very
    delivery that was running it (its worker died or the attempt failed before it could
    hand the job back); a duplicate delivery of a running or finished job takes nothing,
    so a job is never rendered by two workers.
    """
    now = utcnow()
    claimed = session.execute(
        update(ReportJob)
        .where(
            ReportJob.id == job_id,
            or_(
                ReportJob.status == JobStatus.QUEUED.value,
                and_(
                    ReportJob.status == JobStatus.RUNNING.value,
                    ReportJob.queue_job_id == queue_job_id,
                ),
            ),
        )
        .values(
            status=JobStatus.RUNNING.value,
            started_at=now,
            heartbeat_at=now,
            attempts=ReportJob.attempts + 1,
            worker=worker[:100],
            queue_job_id=queue_job_id,
            error=None,
        )
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, job_id: uuid.UUID, error: str) -> None:
    """Hand a running job back to the queue after a failed attempt that will be retried."""
    session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id, ReportJob.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, error=error, worker=None)
    )


def undispatched(
    session: Session, older_than: datetime, limit: int = 500
) -> list[tuple[uuid.UUID, JobPriority]]:
    """Queued jobs created before ``older_than`` (candidates for the queue), with their
    priorities, in the order they are to run."""
    rows = session.execute(
        select(ReportJob.id, ReportJob.priority)
        .where(ReportJob.status == JobStatus.QUEUED.value, ReportJob.created_at < older_than)
        .order_by(*_QUEUE_ORDER)
        .limit(limit)
    )
    return [(job_id, JobPriority(priority)) for job_id, priority in rows]


def finish(session: Session, job_id: uuid.UUID, error: str | None = None) -> None:
    """Record a job's outcome."""
    session.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id)
        .values(
            status=JobStatus.FAILED.value if error else JobStatus.DONE.value,
            error=error,
            finished_at=utcnow(),
        )
    )


def recover_stale(session: Session, started_before: datetime) -> int:
    """Re-queue jobs whose runner died mid-render (or fail them after MAX_ATTEMPTS)."""
    stale = or_(ReportJob.heartbeat_at.is_(None), ReportJob.heartbeat_at < started_before)
    base = update(ReportJob).where(ReportJob.status == JobStatus.RUNNING.value, stale)
    failed = session.execute(
        base.where(ReportJob.attempts >= MAX_ATTEMPTS).values(
            status=JobStatus.FAILED.value,
            error=f"the renderer stopped {MAX_ATTEMPTS} times while working on it",
            finished_at=utcnow(),
        )
    )
    requeued = session.execute(
        base.where(ReportJob.attempts < MAX_ATTEMPTS).values(status=JobStatus.QUEUED.value)
    )
    return int(failed.rowcount + requeued.rowcount)  # type: ignore[attr-defined]


def stale_cutoff(render_timeout_seconds: float) -> datetime:
    """Running jobs started before this have outlived any render that is still going."""
    return utcnow() - timedelta(seconds=render_timeout_seconds * 2 + 30)
