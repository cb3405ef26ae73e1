"""Render workers on the PostgreSQL queue, with real `smm worker` and `smm serve` processes.

Each organization is distinct, so every report has its own cache key and is rendered.
The first test renders real PDFs end to end (API request -> queue -> worker -> WeasyPrint
-> report cache -> GET the PDF); the fault tests, which are about the queue, use workers
whose WeasyPrint call is a quick stand-in so bursts of dozens of jobs stay fast.
"""

from __future__ import annotations

import io
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select

from app.config import Settings, usable_cpus
from app.db import session_factory, transaction
from app.jobs.models import JobStatus, ReportJob
from app.main import create_app
from app.reports.cache import ReportFile
from tests.jobs.fleet import Fleet, Seeded, seed, wait_until_finished, worker_environment
from tests.support.databases import migrated_engine
from tests.support.servers import free_port, start_server, wait_until_ready

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url(fresh_postgres_url: str) -> str:
    return fresh_postgres_url


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    with migrated_engine(postgres_url) as engine:
        yield engine


@pytest.fixture
def fleet(postgres_url: str, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(worker_environment(postgres_url), tmp_path)
    try:
        yield fleet
    finally:
        fleet.stop()


# A burst of jobs from one key: the per-key report budget (tested on its own) stays out of it.
UNRATIONED = {"report_rate_limit": 100_000, "report_rate_burst": 10_000}


def request_reports(postgres_url: str, seeded: Seeded) -> list[uuid.UUID]:
    """POST a report request per assessment through the API; the acknowledged job ids."""
    settings = Settings(database_url=postgres_url, **UNRATIONED)
    assert settings.uses_job_queue
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    ids = []
    with TestClient(create_app(settings)) as client:
        for assessment_id in seeded.assessment_ids:
            response = client.post(f"/v1/assessments/{assessment_id}/reports", headers=headers)
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "queued"
            ids.append(uuid.UUID(response.json()["id"]))
    return ids


def assert_each_rendered_once(engine: Engine, fleet: Fleet, job_ids: list[uuid.UUID]) -> None:
    jobs = wait_until_finished(engine, job_ids, seconds=240, fleet=fleet)
    assert {job.status for job in jobs.values()} == {JobStatus.DONE}, [
        job.error for job in jobs.values() if job.error
    ]
    renders = fleet.render_counts()
    assert {uuid.UUID(job) for job in renders} == set(job_ids)
    assert set(renders.values()) == {1}, renders.most_common(3)
    with transaction(session_factory(engine)) as session:
        stored = session.scalar(select(func.count()).select_from(ReportFile))
        pdf = session.scalar(select(ReportFile.pdf).limit(1))
    assert stored == len(job_ids)
    assert pdf is not None
    assert pdf.startswith(b"%PDF")


def test_a_worker_renders_real_pdfs_that_the_api_then_serves(engine, postgres_url, fleet):
    seeded = seed(engine, 3)
    fleet.start()
    fleet.start()
    job_ids = request_reports(postgres_url, seeded)

    assert_each_rendered_once(engine, fleet, job_ids)
    settings = Settings(database_url=postgres_url)
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    with TestClient(create_app(settings)) as client:
        job = client.get(f"/v1/reports/{job_ids[0]}", headers=headers).json()
        assert job["status"] == "done"
        assert job["error"] is None
        pdf = client.get(job["pdf_url"], headers=headers)
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Member hospital 0000" in text


def test_two_workers_render_a_burst_of_reports_each_exactly_once(engine, postgres_url, fleet):
    seeded = seed(engine, 60)
    first, second = fleet.start(quick=True), fleet.start(quick=True)
    job_ids = request_reports(postgres_url, seeded)

    assert_each_rendered_once(engine, fleet, job_ids)
    # Both workers took part, and no job needed a second attempt.
    assert first.rendered()
    assert second.rendered()
    with transaction(session_factory(engine)) as session:
        attempts = set(session.scalars(select(ReportJob.attempts)))
    assert attempts == {1}


@pytest.mark.skipif(usable_cpus() < 2, reason="needs two CPUs for two render slots")
def test_one_worker_renders_a_job_per_cpu_at_once_by_default_each_exactly_once(
    engine, postgres_url, fleet
):
    seeded = seed(engine, 12)
    worker = fleet.start(concurrency=None, quick=True)
    job_ids = request_reports(postgres_url, seeded)

    assert_each_rendered_once(engine, fleet, job_ids)
    assert len(worker.rendered()) == len(job_ids)
    assert f"with {usable_cpus()} slot(s)" in worker.log.read_text()
    with transaction(session_factory(engine)) as session:
        spans = session.execute(select(ReportJob.started_at, ReportJob.finished_at)).all()
        attempts = set(session.scalars(select(ReportJob.attempts)))
    assert attempts == {1}
    # Some two jobs were running at the same time: the slots render in parallel.
    assert any(
        a_start < b_end and b_start < a_end
        for number, (a_start, a_end) in enumerate(spans)
        for b_start, b_end in spans[number + 1 :]
    )


def test_a_job_whose_worker_is_killed_mid_render_is_finished_by_the_other(
    engine, postgres_url, fleet
):
    seeded = seed(engine, 8)
    doomed, survivor = fleet.start(quick=True), fleet.start(quick=True)
    job_ids = request_reports(postgres_url, seeded)

    factory = session_factory(engine)
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:
        with transaction(factory) as session:
            victim = session.scalar(
                select(ReportJob.id).where(
                    ReportJob.status == JobStatus.RUNNING.value,
                    ReportJob.worker.endswith(doomed.name_suffix),
                )
            )
        time.sleep(0.02)
    assert victim is not None, fleet.logs()
    doomed.kill()

    jobs = wait_until_finished(engine, job_ids, seconds=240, fleet=fleet)
    assert {job.status for job in jobs.values()} == {JobStatus.DONE}
    assert jobs[victim].attempts == 2
    assert jobs[victim].worker is not None
    assert jobs[victim].worker.endswith(survivor.name_suffix)
    assert str(victim) in survivor.rendered()
    assert str(victim) not in doomed.rendered()
    assert set(fleet.render_counts().values()) == {1}


def _serve(postgres_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = worker_environment(postgres_url, port=str(port))
    return start_server(environment, log, port, append=True)


def test_restarting_the_api_mid_burst_loses_no_acknowledged_job(
    engine, postgres_url, fleet, tmp_path
):
    seeded = seed(engine, 50)
    fleet.start(quick=True)
    fleet.start(quick=True)
    port = free_port()
    log = tmp_path / "serve.log"
    api = _serve(postgres_url, port, log)
    acknowledged: list[uuid.UUID] = []
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=api, log=log)
            for number, assessment_id in enumerate(seeded.assessment_ids):
                if number == 25:  # the API dies without warning, and comes back
                    api.send_signal(signal.SIGKILL)
                    api.wait(10)
                    api = _serve(postgres_url, port, log)
                    wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=api, log=log)
                response = client.post(f"/v1/assessments/{assessment_id}/reports", headers=headers)
                assert response.status_code == 202, response.text
                acknowledged.append(uuid.UUID(response.json()["id"]))
    finally:
        api.terminate()
        api.wait(30)

    assert len(acknowledged) == 50
    assert_each_rendered_once(engine, fleet, acknowledged)
