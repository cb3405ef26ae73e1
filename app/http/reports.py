"""Report plumbing both doors share: the caller's report budget, and the worker queue.

The REST API and the console spend one budget per principal (a console user acts through
its own principal) and dispatch queued jobs the same way, so neither door is a way round
the other's limits.
"""

from __future__ import annotations

import math

from fastapi import Request, Response
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.config import Settings
from app.errors import RateLimited
from app.jobs import queue
from app.jobs.models import JobStatus, ReportJob
from app.ratelimit import app_limiter


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
            queue.dispatch(report_queue, session, job.id)


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
