"""The embedded runner renders queued jobs, including those a stopped process left behind."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import transaction, utcnow
from app.intake.models import Assessment
from app.jobs import service as jobs
from app.jobs.models import JobStatus, ReportJob
from app.jobs.runner import LocalRunner
from app.reports.cache import ReportFile
from app.reports.inputs import PlanRequest, cache_key, gather_inputs
from tests.support.jobs import submitted_world


@pytest.fixture
def world(fresh_database_url):
    with submitted_world(fresh_database_url, "Lakeside", prerender=False) as made:
        yield made


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
