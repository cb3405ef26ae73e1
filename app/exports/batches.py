"""A consultant's whole client list at once: one report job per organization, and the jobs.

Each organization's roadmap is planned from its latest submitted assessment with the
organization's own settings (no per-request options), exactly as a single report request
without options would be, so a batch shares the report cache with every other door.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import Principal, require_role
from app.errors import AppError
from app.exports.service import latest_submitted
from app.intake.models import Assessment
from app.jobs import service as jobs
from app.jobs.models import JobPriority, ReportJob
from app.organizations.models import Organization
from app.organizations.service import in_scope
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest

NO_SUBMITTED_ASSESSMENT = "It has no submitted assessment yet."


@dataclass(frozen=True, slots=True)
class QueuedReport:
    organization_name: str
    job: ReportJob


@dataclass(frozen=True, slots=True)
class SkippedOrganization:
    organization_id: uuid.UUID
    organization_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class MissingOrganization:
    """A requested id that names no organization the key can see (it may not exist at all)."""

    organization_id: uuid.UUID

    @property
    def detail(self) -> str:
        # The very words a single lookup uses, so a batch leaks no more than a GET does.
        return f"There is no organization {self.organization_id} that this key can see."


@dataclass(slots=True)
class BatchOutcome:
    queued: list[QueuedReport] = field(default_factory=list)
    skipped: list[SkippedOrganization] = field(default_factory=list)
    missing: list[MissingOrganization] = field(default_factory=list)


def queue_reports(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    organization_ids: Sequence[uuid.UUID] | None = None,
) -> BatchOutcome:
    """A report job for each organization in scope (or each listed one) that has a
    submitted assessment; the others are skipped, and ids out of scope are missing."""
    require_role(principal, Role.ADMIN, Role.CONSULTANT, action="queue reports in bulk")
    wanted = list(dict.fromkeys(organization_ids)) if organization_ids is not None else None
    selection = latest_submitted(session, principal, wanted)
    outcome = BatchOutcome()
    found = {item.organization_id for item in selection}
    outcome.missing = [MissingOrganization(i) for i in wanted or [] if i not in found]
    request = PlanRequest()
    for item in selection:
        if item.assessment_id is None:
            outcome.skipped.append(
                SkippedOrganization(
                    item.organization_id, item.organization_name, NO_SUBMITTED_ASSESSMENT
                )
            )
            continue
        assessment = session.get_one(Assessment, item.assessment_id)
        try:
            job = jobs.queue_report(
                session,
                registry,
                assessment,
                request,
                requested_by=principal.key_id,
                priority=JobPriority.BATCH,
                check_plan=False,
            )
        except AppError as exc:  # e.g. no action catalogue for its questionnaire version
            outcome.skipped.append(
                SkippedOrganization(item.organization_id, item.organization_name, exc.detail)
            )
            continue
        outcome.queued.append(QueuedReport(item.organization_name, job))
    return outcome


def list_jobs(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    organization_id: uuid.UUID | None,
    assessment_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[ReportJob, str]], int]:
    """A page of the report jobs of organizations the key can see, newest first, with each
    job's organization name, and their total."""
    query = in_scope(
        select(ReportJob, Organization.name).join(
            Organization, Organization.id == ReportJob.organization_id
        ),
        session,
        principal,
        ReportJob.organization_id,
        organization_id,
    )
    if status is not None:
        query = query.where(ReportJob.status == status)
    if assessment_id is not None:
        query = query.where(ReportJob.assessment_id == assessment_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.execute(
        query.order_by(ReportJob.created_at.desc(), ReportJob.id).limit(limit).offset(offset)
    )
    return [(job, name) for job, name in page], total
