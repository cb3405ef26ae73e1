"""Report plumbing the doors share: the caller's report budget, the worker queue, the
pre-render of a submitted assessment, and waiting for it.

The REST API and the console spend one budget per principal (a console user acts through
its own principal) and dispatch queued jobs the same way, so neither door is a way round
the other's limits. Every door that stores a submitted assessment (REST, batch, FHIR, the
web form) queues its default report with ``queue_prerender``, in the submit's transaction;
the downloads of that report (``wait_for_prerender``) then find it in the cache.
"""

from __future__ import annotations

import math
import time
import uuid
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.config import Settings
from app.db import utcnow
from app.errors import RateLimited
from app.intake.models import Assessment, AssessmentStatus
from app.jobs import queue
from app.jobs import service as jobs
from app.jobs.models import JobPriority, JobStatus, ReportJob
from app.questionnaire.registry import QuestionnaireRegistry
from app.ratelimit import app_limiter
from app.reports.cache import cached_report
from app.reports.inputs import PlanRequest
from app.reports.service import order_report

# How long a download waits for a pre-render that no runner has taken yet (they poll
# every quarter second when one is free) before it renders the report itself.
QUEUED_GRACE_SECONDS = 2.0
POLL_SECONDS = 0.1

# How long a client waiting for a report should wait before it asks again: 3 s at first,
# then a tenth of the time waited so far, up to 15 s. The results page reloads itself at
# this interval and the API's job replies carry it as ``Retry-After``. Behind a backlog of
# renders, hundreds of clients asking every few seconds took the CPU the renders that would
# end their wait needed.
RECHECK_SECONDS = 3
RECHECK_SECONDS_MAX = 15


def recheck_seconds(waited: timedelta) -> int:
    """Seconds before a client that has waited ``waited`` for a report should ask again."""
    return min(RECHECK_SECONDS_MAX, max(RECHECK_SECONDS, round(waited.total_seconds() / 10)))


def spend_report_budget(request: Request, principal: Principal, settings: Settings) -> None:
    """Count one report render or job against the key's budget; RateLimited once it is spent.

    On PostgreSQL the budget is kept in the database, so every API process shares it.
    """
    limiter = app_limiter(
        request.app.state,
        "reports",
        per_minute=settings.report_rate_limit,
        burst=settings.report_rate_burst,
        shared=not settings.is_sqlite,
    )
    wait = limiter.wait(str(principal.key_id), lambda: request.app.state.session_factory)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"This key has started too many report renders and report jobs for now "
            f"(at most {settings.report_rate_burst} at once, {settings.report_rate_limit} a "
            f"minute); try again in {seconds} second{'s' if seconds != 1 else ''}.",
            retry_after=seconds,
        )


def dispatch_queued(request: Request, session: Session, queued: list[ReportJob]) -> None:
    """Put queued jobs on the worker queue, when there is one, in the caller's transaction.

    Then a job is on the queue if and only if its row is stored; with the embedded runner
    there is nothing to do (it polls the table).
    """
    report_queue = getattr(request.app.state, "report_queue", None)
    if report_queue is None:
        return
    for job in queued:
        if job.status == JobStatus.QUEUED:
            queue.dispatch(report_queue, session, job.id, JobPriority(job.priority))


def queue_prerender(
    request: Request,
    session: Session,
    assessment: Assessment,
    requested_by: uuid.UUID | None,
    priority: JobPriority,
) -> uuid.UUID | None:
    """Queue the default report of an assessment the request has just stored, if submitted.

    One row (and, on PostgreSQL, the queue's message) in the request's transaction: the
    job exists exactly when the submit does, and a process that stops after the commit
    leaves it queued for the runner or the workers' sweep. ``priority``: the web form's (a
    person waits on the results page), a single API call's, or a batch's, which goes
    after both. None for a draft, or when the ``prerender_reports`` setting is off.
    """
    settings: Settings = request.app.state.settings
    if not settings.prerender_reports or assessment.status != AssessmentStatus.SUBMITTED:
        return None
    job_id = jobs.queue_default_report(
        session, assessment, requested_by=requested_by, priority=priority
    )
    report_queue = getattr(request.app.state, "report_queue", None)
    if report_queue is not None:
        queue.dispatch(report_queue, session, job_id, priority)
    return job_id


def report_link(job_id: uuid.UUID | None) -> dict[str, str]:
    """The ``Link`` header that points an API client at a pre-render's job (none for a draft)."""
    if job_id is None:
        return {}
    return {"Link": f'</v1/reports/{job_id}>; rel="report"'}


def wait_for_prerender(
    session: Session,
    registry: QuestionnaireRegistry,
    assessment: Assessment,
    request: PlanRequest,
    settings: Settings,
) -> None:
    """Wait, bounded, for a job that is rendering this very report, so the download that
    follows is served from the cache instead of rendering the report a second time.

    Costs one indexed look-up when no job of the assessment is under way. While waiting,
    the request's read is ended (as before a render) so that the runner can store the
    PDF. A running job is waited for until the render timeout from its start; a queued
    one for QUEUED_GRACE_SECONDS to start. Never longer than the render timeout.
    """
    if not jobs.has_in_flight(session, assessment.id):
        return
    key = order_report(session, registry, assessment, request).key
    job = jobs.in_flight(session, assessment.id, key, request)
    if job is None or cached_report(session, key) is not None:
        return
    job_id = job.id
    session.commit()  # end the read: SQLite's one connection and write lock go to the runner
    limit = time.monotonic() + settings.render_timeout_seconds
    queued_until = time.monotonic() + QUEUED_GRACE_SECONDS
    while True:
        status, job_key, started_at = jobs.job_outcome(session, job_id)
        session.commit()
        if status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return
        if job_key not in (key, jobs.PENDING_KEY):
            return  # it turned out to render another version of the report
        now = time.monotonic()
        if status == JobStatus.QUEUED and now >= queued_until:
            return
        if status == JobStatus.RUNNING and started_at is not None:
            running_for = (utcnow() - started_at) / timedelta(seconds=1)
            limit = min(limit, now + max(settings.render_timeout_seconds - running_for, 0) + 1)
        if now >= limit:
            return
        time.sleep(POLL_SECONDS)


def pdf_response(pdf: bytes, name: str) -> Response:
    """A report PDF as a download named ``name``, never kept by shared caches."""
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, max-age=0",
        },
    )
