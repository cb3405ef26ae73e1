"""Roadmaps and PDF reports through the REST API: planning options, caching, jobs, scope."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from app.config import Settings
from app.db import utcnow
from app.jobs import service as jobs
from app.jobs.models import JobStatus, ReportJob
from app.jobs.runner import run_job
from app.reports import service as reports
from app.reports.cache import ReportFile
from tests.conftest import bearer, example

COMMUNITY = example("community-hospital")


@pytest.fixture
def submitted(client, admin_headers, make_organization):
    org = make_organization("Lakeside Community Hospital", beds=60)
    response = client.post(
        "/v1/assessments", json={"organization_id": str(org.id), **COMMUNITY}, headers=admin_headers
    )
    assert response.status_code == 201
    return response.json()


def test_roadmap_plans_one_level_up_priced_for_the_organization_size(
    client, admin_headers, submitted
):
    response = client.get(f"/v1/assessments/{submitted['id']}/roadmap", headers=admin_headers)

    assert response.status_code == 200, response.text
    roadmap = response.json()
    assert roadmap["size_band"] == "small"
    assert roadmap["targets"] == {"presence": 3, "consistency": 2, "security": 3}
    assert {p["dimension_id"]: p["level"] for p in roadmap["projected"]} == roadmap["targets"]
    assert roadmap["total_cost"] == sum(p["cost"] for p in roadmap["phases"]) > 0
    assert roadmap["phases"][0]["title"] == "First 90 days"


def test_roadmap_takes_targets_budget_and_exclusions(client, admin_headers, submitted):
    url = f"/v1/assessments/{submitted['id']}/roadmap"
    full = client.get(url, headers=admin_headers).json()
    used = full["services"][0]["service_id"]

    response = client.get(
        url,
        params={"target": ["security=4"], "budget": full["total_cost"] * 2, "exclude": [used]},
        headers=admin_headers,
    )

    assert response.status_code == 200, response.text
    roadmap = response.json()
    assert roadmap["targets"]["security"] == 4
    assert roadmap["budget"] == full["total_cost"] * 2
    assert roadmap["total_cost"] <= roadmap["budget"]
    assert used not in {s["service_id"] for s in roadmap["services"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"target": "security"}, "target"),
        ({"target": "reach=3"}, "targets"),
        ({"exclude": "no_such_service"}, "exclude"),
        ({"budget": -5}, "budget"),
    ],
)
def test_bad_roadmap_options_are_422_naming_the_field(
    client, admin_headers, submitted, params, field
):
    response = client.get(
        f"/v1/assessments/{submitted['id']}/roadmap", params=params, headers=admin_headers
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_draft_has_no_roadmap_yet(client, admin_headers, make_organization):
    org = make_organization()
    draft = client.post(
        "/v1/assessments",
        json={"organization_id": str(org.id), **COMMUNITY, "status": "draft"},
        headers=admin_headers,
    ).json()

    for path in ("roadmap", "report.pdf"):
        response = client.get(f"/v1/assessments/{draft['id']}/{path}", headers=admin_headers)
        assert response.status_code == 409
        assert "submit" in response.json()["detail"]


def test_report_pdf_is_rendered_once_and_then_served_from_the_cache(
    client, admin_headers, submitted, db, monkeypatch
):
    renders = []
    original = reports.render_report

    def counting(*args, **kwargs):
        renders.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(reports, "render_report", counting)
    url = f"/v1/assessments/{submitted['id']}/report.pdf"

    first = client.get(url, headers=admin_headers)
    second = client.get(url, headers=admin_headers)

    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content == second.content
    assert len(renders) == 1
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(first.content)).pages)
    assert "Lakeside Community Hospital" in text
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 1
    other = client.get(url, params={"target": "security=4"}, headers=admin_headers)
    assert other.content != first.content
    assert len(renders) == 2


def test_report_job_is_queued_rendered_and_fetched(
    client, admin_headers, submitted, connection, registry
):
    created = client.post(
        f"/v1/assessments/{submitted['id']}/reports",
        json={"targets": {"security": 4}},
        headers=admin_headers,
    )
    assert created.status_code == 202, created.text
    job = created.json()
    assert job["status"] == "queued"
    assert created.headers["location"] == f"/v1/reports/{job['id']}"
    assert created.headers["retry-after"] == "3"
    assert client.get(f"/v1/reports/{job['id']}/pdf", headers=admin_headers).status_code == 409

    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    run_job(factory, registry, Settings(run_report_jobs=False), uuid.UUID(job["id"]))

    polled = client.get(f"/v1/reports/{job['id']}", headers=admin_headers)
    status = polled.json()
    assert status["status"] == "done", status
    assert "retry-after" not in polled.headers  # nothing left to wait for
    pdf = client.get(status["pdf_url"], headers=admin_headers)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_a_job_for_a_cached_report_is_done_at_once(client, admin_headers, submitted):
    client.get(f"/v1/assessments/{submitted['id']}/report.pdf", headers=admin_headers)

    created = client.post(f"/v1/assessments/{submitted['id']}/reports", headers=admin_headers)
    job = created.json()

    assert job["status"] == "done"
    assert "retry-after" not in created.headers
    assert client.get(job["pdf_url"], headers=admin_headers).content.startswith(b"%PDF")


def test_a_waiting_job_asks_its_poller_to_come_back_less_often_the_longer_it_waits(
    db, client, admin_headers, submitted
):
    # Behind a backlog of renders, partners polling every few seconds take the CPU the
    # renders need: Retry-After is 3 s at first, then a tenth of the wait, up to 15 s.
    job = client.post(f"/v1/assessments/{submitted['id']}/reports", headers=admin_headers).json()
    for waited, interval in ((0, 3), (60, 6), (120, 12), (3600, 15)):
        db.execute(
            update(ReportJob)
            .where(ReportJob.id == uuid.UUID(job["id"]))
            .values(created_at=utcnow() - timedelta(seconds=waited))
        )
        db.commit()

        polled = client.get(f"/v1/reports/{job['id']}", headers=admin_headers)

        assert polled.json()["status"] == "queued"
        assert polled.headers["retry-after"] == str(interval), waited


def test_jobs_left_running_by_a_stopped_process_are_queued_again(
    db, client, admin_headers, submitted
):
    job = client.post(f"/v1/assessments/{submitted['id']}/reports", headers=admin_headers).json()
    prerender, claimed = jobs.claim_next(db), jobs.claim_next(db)  # oldest first: the submit's
    assert prerender is not None
    assert claimed is not None
    assert str(claimed.id) == job["id"]

    recovered = jobs.recover_stale(db, jobs.stale_cutoff(-3600))

    assert recovered == 2
    assert db.get(ReportJob, claimed.id, populate_existing=True).status == JobStatus.QUEUED


def test_reports_of_other_organizations_are_404(
    client, make_key, make_organization, submitted, admin_headers
):
    job = client.post(f"/v1/assessments/{submitted['id']}/reports", headers=admin_headers).json()
    stranger = bearer(make_key("consultant"))

    for url in (
        f"/v1/assessments/{submitted['id']}/roadmap",
        f"/v1/assessments/{submitted['id']}/report.pdf",
        f"/v1/reports/{job['id']}",
        f"/v1/reports/{job['id']}/pdf",
    ):
        assert client.get(url, headers=stranger).status_code == 404, url
    assert (
        client.post(f"/v1/assessments/{submitted['id']}/reports", headers=stranger).status_code
        == 404
    )


def test_a_pathological_render_fails_cleanly_and_the_service_stays_healthy(
    client, admin_headers, submitted, monkeypatch
):
    from app.reports.sandbox import run_isolated
    from tests.jobs import hostile

    def hostile_render(inputs, request, renderer):
        pdf = run_isolated(hostile.hog_memory, "", timeout=30, memory_bytes=256 * 2**20)
        return reports.Report(pdf, rendered=True)

    monkeypatch.setattr(reports, "render_report", hostile_render)

    response = client.get(f"/v1/assessments/{submitted['id']}/report.pdf", headers=admin_headers)

    assert response.status_code == 500
    assert response.json()["error"] == "render_failed"
    assert "256 MiB" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200
    assert (
        client.get(f"/v1/assessments/{submitted['id']}/roadmap", headers=admin_headers).status_code
        == 200
    )
