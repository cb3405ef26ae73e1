"""Report jobs in tests: a counting stand-in for the render, a runner in the test's
transaction, and a database of its own holding one submitted assessment."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import Role
from app.auth.service import Principal, create_key
from app.config import Settings
from app.db import make_engine, session_factory, transaction
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.jobs import service as jobs
from app.jobs.models import JobPriority
from app.jobs.runner import run_job
from app.migrate import upgrade
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry, publish
from app.reports import service as reports
from tests.conftest import example
from tests.support.questionnaires import loaded_questionnaires

FAKE_PDF = b"%PDF-1.7 stand-in for the roadmap"

World = tuple[sessionmaker[Session], QuestionnaireRegistry, uuid.UUID]


def counted_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the render with a stand-in; the list gathers each render's organization name."""
    done: list[str] = []

    def render(inputs: Any, _request: Any, _renderer: Any) -> reports.Report:
        done.append(inputs.organization.name)
        return reports.Report(FAKE_PDF, rendered=True, render_ms=1)

    monkeypatch.setattr(reports, "render_report", render)
    return done


def runner_in(
    connection: Connection, registry: QuestionnaireRegistry
) -> Callable[[uuid.UUID | str], None]:
    """Render one job as the embedded runner does, in the test's transaction."""
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )

    def run(job_id: uuid.UUID | str) -> None:
        run_job(factory, registry, Settings(run_report_jobs=False), uuid.UUID(str(job_id)))

    return run


@contextmanager
def submitted_world(database_url: str, name: str, *, prerender: bool) -> Iterator[World]:
    """A migrated database of its own, with real commits, holding one submitted assessment
    of the community-hospital example (and, with ``prerender``, its queued default report)."""
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        registry = publish(session, loaded_questionnaires())
        key = create_key(session, Role.ADMIN, []).key
        organization = Organization(
            name=name, type="community_hospital", licensed_beds=60, state="MN"
        )
        session.add(organization)
        session.flush()
        assessment = create_assessment(
            session,
            registry,
            Principal(key.id, Role.ADMIN),
            organization_id=organization.id,
            questionnaire_id="hospital-social-media",
            version=1,
            status="submitted",
            items=[AnswerIn.model_validate(a) for a in example("community-hospital")["answers"]],
        )
        if prerender:
            jobs.queue_default_report(
                session, assessment, requested_by=None, priority=JobPriority.PERSON
            )
        assessment_id = assessment.id
    try:
        yield factory, registry, assessment_id
    finally:
        engine.dispose()
