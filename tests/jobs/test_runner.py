"""The embedded runner renders queued jobs, including those a stopped process left behind."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.auth.service import Principal, create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction, utcnow
from app.intake.models import Assessment
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.jobs import service as jobs
from app.jobs.models import JobStatus, ReportJob
from app.jobs.runner import LocalRunner
from app.migrate import upgrade
from app.organizations.models import Organization
from app.questionnaire.registry import publish
from app.reports.cache import ReportFile
from app.reports.inputs import PlanRequest, cache_key, gather_inputs
from tests.support.questionnaires import loaded_questionnaires


@pytest.fixture
def world(fresh_database_url):
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    document = json.loads((PROJECT_ROOT / "examples" / "community-hospital.json").read_text())
    with transaction(factory) as session:
        registry = publish(session, loaded_questionnaires())
        key = create_key(session, Role.ADMIN, []).key
        organization = Organization(
            name="Lakeside", type="community_hospital", licensed_beds=60, state="MN"
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
            items=[AnswerIn.model_validate(a) for a in document["answers"]],
        )
        assessment_id = assessment.id
    yield factory, registry, assessment_id
    engine.dispose()


def _enqueue(factory, registry, assessment_id, request: PlanRequest) -> uuid.UUID:
    with transaction(factory) as session:
        assessment = session.get_one(Assessment, assessment_id)
        inputs = gather_inputs(session, registry, assessment)
        job = jobs.enqueue(
            session,
            assessment_id=assessment_id,
            organization_id=assessment.organization_id,
            options=request.to_dict(),
            cache_key=cache_key(inputs, request),
            requested_by=None,
        )
        return job.id


def _wait_for(factory, job_ids, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction(factory) as session:
            states = {
                j.id: j for j in session.scalars(select(ReportJob).where(ReportJob.id.in_(job_ids)))
            }
        if all(j.status in (JobStatus.DONE, JobStatus.FAILED) for j in states.values()):
            return states
        time.sleep(0.2)
    raise AssertionError(f"jobs did not finish: {[(j.id, j.status) for j in states.values()]}")


def test_runner_renders_queued_jobs_and_one_left_running_by_a_dead_process(world):
    factory, registry, assessment_id = world
    pending = _enqueue(factory, registry, assessment_id, PlanRequest())
    orphan = _enqueue(factory, registry, assessment_id, PlanRequest({"security": 4}))
    with transaction(factory) as session:
        # A process claimed this one an hour ago and died mid-render.
        job = session.get_one(ReportJob, orphan)
        job.status, job.attempts = JobStatus.RUNNING.value, 1
        job.started_at = job.heartbeat_at = utcnow().replace(year=utcnow().year - 1)

    runner = LocalRunner(factory, registry, Settings(render_workers=2))
    runner.start()
    try:
        states = _wait_for(factory, [pending, orphan])
    finally:
        runner.stop()

    assert {j.status for j in states.values()} == {JobStatus.DONE}, [
        j.error for j in states.values()
    ]
    assert states[orphan].attempts == 2
    with transaction(factory) as session:
        stored = session.scalars(select(ReportFile.pdf)).all()
    assert len(stored) == 2
    assert all(pdf.startswith(b"%PDF") for pdf in stored)


def test_a_job_whose_render_fails_records_why_and_the_runner_carries_on(world, monkeypatch):
    factory, registry, assessment_id = world
    failing = _enqueue(factory, registry, assessment_id, PlanRequest({"presence": 4}))
    fine = _enqueue(factory, registry, assessment_id, PlanRequest())
    from app.reports import service as reports
    from tests.jobs import hostile

    real = reports.render_report

    def render(inputs, request, renderer):
        if request.targets:
            from app.reports.sandbox import run_isolated

            run_isolated(hostile.spin, "", timeout=1, memory_bytes=256 * 2**20)
        return real(inputs, request, renderer)

    monkeypatch.setattr(reports, "render_report", render)
    runner = LocalRunner(factory, registry, Settings(render_workers=1))
    runner.start()
    try:
        states = _wait_for(factory, [failing, fine])
    finally:
        runner.stop()

    assert states[failing].status == JobStatus.FAILED
    assert "longer than 1 s" in states[failing].error
    assert states[fine].status == JobStatus.DONE
