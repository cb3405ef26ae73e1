"""Report jobs: a request to render an assessment's report, and how it went.

The PDFs they produce are kept in the report cache (``app.reports.cache.ReportFile``,
re-exported here for older imports).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow
from app.reports.cache import ReportFile

__all__ = ["JobPriority", "JobStatus", "ReportFile", "ReportJob"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobPriority(IntEnum):
    """Which queued job a runner or worker takes first: the highest, then the oldest.

    A person on the results page waits for the PDF of the form they just submitted; a
    partner's single call is followed by its client; a batch (of submits or of reports)
    is work somebody will collect later, and goes after both however early it came.
    """

    BATCH = 0
    SINGLE = 10
    PERSON = 20


class ReportJob(Base):
    """A request to render an assessment's roadmap report, and how it went."""

    __tablename__ = "report_jobs"
    # Runners take queued jobs by priority, then age (``app.jobs.service.claim_next``).
    __table_args__ = (Index("ix_report_jobs_queue", "status", "priority", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    options: Mapped[dict[str, Any]]
    cache_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    priority: Mapped[int] = mapped_column(
        SmallInteger, default=JobPriority.SINGLE.value, server_default="10"
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # host:pid of the process rendering it, so an operator can tell who holds a running job.
    worker: Mapped[str | None] = mapped_column(String(100))
    # The procrastinate job delivering it: a retry of that same delivery may take over a
    # running row whose worker died; any other delivery (a duplicate) may not.
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
    requested_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
