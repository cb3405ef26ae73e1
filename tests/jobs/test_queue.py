"""Choosing the job backend, claiming a job from a queue delivery, and the queue's outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import Principal
from app.config import Settings
from app.db import utcnow
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.jobs import queue, service
from app.jobs.models import JobPriority, JobStatus, ReportJob
from tests.conftest import example


@pytest.mark.parametrize(
    ("database_url", "backend", "queued"),
    [
        ("sqlite:///var/smm.db", "auto", False),
        ("postgresql://db/smm", "auto", True),
        ("postgres://db/smm", "auto", True),
        ("postgresql+psycopg://db/smm", "auto", True),
        ("postgresql://db/smm", "local", False),
        ("postgresql://db/smm", "procrastinate", True),
    ],
)
def test_the_queue_is_used_on_postgresql_unless_the_setting_says_otherwise(
    database_url, backend, queued
):
    settings = Settings(database_url=database_url, job_backend=backend)
    assert settings.uses_job_queue is queued


def test_an_unknown_job_backend_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="job_backend"):
        Settings(job_backend="celery")


def test_the_queue_backend_on_sqlite_is_refused_at_start():
    with pytest.raises(ValueError, match="'procrastinate' needs a PostgreSQL"):
        Settings(database_url="sqlite:///var/smm.db", job_backend="procrastinate")


@pytest.fixture
def job_id(db: Session, registry, make_organization) -> uuid.UUID:
    organization = make_organization()
    assessment = create_assessment(
        db,
        registry,
        Principal(None, Role.ADMIN),
        organization_id=organization.id,
        questionnaire_id="hospital-social-media",
        version=1,  # the example answers version 1
        status="submitted",
        items=[AnswerIn.model_validate(a) for a in example("community-hospital")["answers"]],
    )
    job = service.enqueue(
        db,
        assessment_id=assessment.id,
        organization_id=organization.id,
        options={},
        cache_key="k" * 64,
        requested_by=None,
    )
    return job.id


def _another_job(
    db: Session,
    like: uuid.UUID,
    key: str = "a" * 64,
    priority: JobPriority = JobPriority.SINGLE,
) -> ReportJob:
    """A queued job for the same assessment as job ``like``."""
    job = db.get_one(ReportJob, like)
    return service.enqueue(
        db,
        assessment_id=job.assessment_id,
        organization_id=job.organization_id,
        options={},
        cache_key=key,
        requested_by=None,
        priority=priority,
    )


def _claim(db: Session, job_id: uuid.UUID, delivery: int) -> bool:
    return service.claim(db, job_id, worker=f"host:{delivery}", queue_job_id=delivery)


def test_a_duplicate_delivery_of_a_running_job_does_not_take_it(db, job_id):
    assert _claim(db, job_id, delivery=1)
    assert not _claim(db, job_id, delivery=2)

    job = db.get_one(ReportJob, job_id, populate_existing=True)
    assert (job.status, job.queue_job_id, job.worker, job.attempts) == ("running", 1, "host:1", 1)


def test_a_retry_of_the_same_delivery_takes_over_the_job_its_dead_worker_held(db, job_id):
    assert _claim(db, job_id, delivery=1)
    # The worker died mid-render; procrastinate retries delivery 1 on another worker.
    assert _claim(db, job_id, delivery=1)

    assert db.get_one(ReportJob, job_id, populate_existing=True).attempts == 2


def test_no_delivery_takes_a_finished_job(db, job_id):
    assert _claim(db, job_id, delivery=1)
    service.finish(db, job_id)

    assert not _claim(db, job_id, delivery=1)
    assert not _claim(db, job_id, delivery=2)


def test_a_released_job_is_queued_again_with_the_reason_and_can_be_claimed(db, job_id):
    assert _claim(db, job_id, delivery=1)
    service.release(db, job_id, "the render process died while rendering")

    job = db.get_one(ReportJob, job_id, populate_existing=True)
    assert (job.status, job.error, job.worker) == (
        "queued",
        "the render process died while rendering",
        None,
    )
    assert _claim(db, job_id, delivery=1)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(priorities=st.lists(st.sampled_from(JobPriority), min_size=1, max_size=8))
def test_runners_take_queued_jobs_by_priority_then_oldest_first(db, job_id, priorities):
    """Whatever the mix, a higher priority goes first, and jobs of one priority in the order
    they were queued (the fixture's own job is done, out of the way)."""
    service.finish(db, job_id)
    start = utcnow() - timedelta(hours=1)
    savepoint = db.begin_nested()
    queued = []
    for position, priority in enumerate(priorities):
        job = _another_job(db, job_id, f"{position:064d}", priority)
        job.created_at = start + timedelta(seconds=position)
        queued.append((-priority, position, job.id))
    db.flush()

    taken = [service.claim_next(db) for _ in priorities]

    assert [job.id for job in taken if job] == [job for *_, job in sorted(queued)]
    assert service.claim_next(db) is None
    savepoint.rollback()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=12))
def test_only_the_first_delivery_to_claim_a_job_ever_holds_it(db, job_id, deliveries):
    db.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id)
        .values(status=JobStatus.QUEUED.value, queue_job_id=None, attempts=0)
    )
    taken = [delivery for delivery in deliveries if _claim(db, job_id, delivery)]

    # However deliveries and retries interleave, one delivery (the first) holds the job.
    assert set(taken) == {deliveries[0]}
    assert len(taken) == deliveries.count(deliveries[0])


@pytest.mark.postgres
def test_dispatch_puts_the_job_on_the_queue_in_the_callers_transaction(db, job_id):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the queue lives in PostgreSQL")
    app = queue.client_app(db.get_bind().engine.url.render_as_string(hide_password=False))
    savepoint = db.begin_nested()
    queue_job = queue.dispatch(app, db, job_id, JobPriority.PERSON)
    row = db.execute(
        text(
            "SELECT task_name, queue_name, lock, queueing_lock, args->>'job_id', status, "
            "priority FROM procrastinate.procrastinate_jobs WHERE id = :id"
        ),
        {"id": queue_job},
    ).one()
    key = str(job_id)
    assert tuple(row) == (queue.TASK, queue.QUEUE, key, key, key, "todo", JobPriority.PERSON)
    # The request's own statements still find the application's tables first: the queue's
    # schema comes last, once, however many jobs the transaction dispatches.
    queue.dispatch(app, db, _another_job(db, job_id).id, JobPriority.BATCH)
    assert db.scalar(text("SELECT current_schemas(false)")) == ["public", "procrastinate"]
    assert db.scalar(text("SELECT to_regclass('report_jobs')::text")) == "report_jobs"

    savepoint.rollback()  # the request failed after all: its job leaves no message behind
    assert db.scalar(text("SELECT count(*) FROM procrastinate.procrastinate_jobs")) == 0


@pytest.mark.postgres
def test_the_sweep_queues_a_stored_job_once_however_often_it_runs(db, job_id):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the queue lives in PostgreSQL")
    db.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id)
        .values(created_at=utcnow() - timedelta(minutes=1), priority=JobPriority.BATCH)
    )
    app = queue.client_app(db.get_bind().engine.url.render_as_string(hide_password=False))

    assert queue.sweep(app, db, stalled_after=30) == (1, 0)
    assert queue.sweep(app, db, stalled_after=30) == (0, 0)
    waiting = db.execute(
        text("SELECT queueing_lock, priority FROM procrastinate.procrastinate_jobs")
    ).all()
    assert [tuple(row) for row in waiting] == [(str(job_id), JobPriority.BATCH)]
    assert db.scalar(select(ReportJob.status).where(ReportJob.id == job_id)) == "queued"


@pytest.mark.postgres
def test_the_sweep_hands_back_a_job_left_running_by_a_delivery_that_is_over(db, job_id):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the queue lives in PostgreSQL")
    app = queue.client_app(db.get_bind().engine.url.render_as_string(hide_password=False))
    delivery = queue.dispatch(app, db, job_id, JobPriority.SINGLE)
    assert _claim(db, job_id, delivery)
    # Its attempts ran out while the database was unreachable: the queue gave up on it.
    db.execute(text("SELECT set_config('search_path', 'procrastinate, public', true)"))
    db.execute(
        text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"), {"id": delivery}
    )
    db.execute(text("SELECT set_config('search_path', '\"$user\", public', true)"))
    db.execute(
        update(ReportJob)
        .where(ReportJob.id == job_id)
        .values(created_at=utcnow() - timedelta(minutes=1))
    )

    queue.sweep(app, db, stalled_after=30)  # hands it back
    assert db.scalar(select(ReportJob.status).where(ReportJob.id == job_id)) == "queued"
    assert queue.sweep(app, db, stalled_after=30) == (1, 0)  # and queues it again
