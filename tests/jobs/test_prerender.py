"""Every door that stores a submitted assessment queues its default report at once.

The render itself is replaced by a counting stand-in (WeasyPrint is tested elsewhere): what
these tests care about is that each submit queues exactly one job, in its own transaction,
that the runner turns it into the cached PDF, and that the downloads then render nothing.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.config import PROJECT_ROOT, Settings
from app.db import transaction
from app.http import reports as http_reports
from app.intake.models import Assessment
from app.jobs import queue
from app.jobs import service as jobs
from app.jobs.models import JobPriority, JobStatus, ReportJob
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.cache import ReportFile, cached_report, store_report
from app.reports.inputs import PlanRequest
from app.reports.service import order_report
from tests.conftest import bearer, example
from tests.support.jobs import FAKE_PDF, World, counted_renders, runner_in, submitted_world

COMMUNITY = example("community-hospital")


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return counted_renders(monkeypatch)


@pytest.fixture
def runner(connection: Connection, registry: QuestionnaireRegistry) -> Callable[[str], None]:
    return runner_in(connection, registry)


def _jobs_of(db: Session, assessment_id: str) -> list[ReportJob]:
    db.expire_all()
    return list(
        db.scalars(select(ReportJob).where(ReportJob.assessment_id == uuid.UUID(assessment_id)))
    )


def _linked_job(response: Any) -> str:
    link = response.headers["link"]
    assert link.startswith("</v1/reports/"), link
    assert link.endswith('>; rel="report"'), link
    return str(link.removeprefix("</v1/reports/").split(">")[0])


# -- the doors ---------------------------------------------------------------------------------


def _post_submitted(
    client: TestClient, headers: dict[str, str], org: Organization
) -> tuple[str, Any]:
    response = client.post(
        "/v1/assessments", json={"organization_id": str(org.id), **COMMUNITY}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response


def _draft(client: TestClient, headers: dict[str, str], org: Organization) -> str:
    body = {"organization_id": str(org.id), **COMMUNITY, "status": "draft"}
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert "link" not in response.headers
    return str(response.json()["id"])


def _submit_endpoint(
    client: TestClient, headers: dict[str, str], org: Organization
) -> tuple[str, Any]:
    draft = _draft(client, headers, org)
    response = client.post(f"/v1/assessments/{draft}/submit", headers=headers)
    assert response.status_code == 200, response.text
    return draft, response


def _patch_submitted(
    client: TestClient, headers: dict[str, str], org: Organization
) -> tuple[str, Any]:
    draft = _draft(client, headers, org)
    response = client.patch(
        f"/v1/assessments/{draft}", json={"status": "submitted", "answers": []}, headers=headers
    )
    assert response.status_code == 200, response.text
    return draft, response


def _fhir(client: TestClient, headers: dict[str, str], org: Organization) -> tuple[str, Any]:
    resource = json.loads(
        (PROJECT_ROOT / "examples" / "fhir" / "community-hospital.json").read_text("utf-8")
    )
    resource = copy.deepcopy(resource)
    resource["subject"] = {"reference": f"Organization/{org.id}"}
    assert resource["status"] == "completed"
    response = client.post(
        "/fhir/r4/QuestionnaireResponse",
        content=json.dumps(resource),
        headers={**headers, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response


DOORS = {
    "POST /v1/assessments": _post_submitted,
    "POST /v1/assessments/{id}/submit": _submit_endpoint,
    "PATCH /v1/assessments/{id}": _patch_submitted,
    "FHIR POST QuestionnaireResponse": _fhir,
}


@pytest.mark.parametrize("door", DOORS)
def test_a_submit_queues_its_default_report_and_the_download_is_then_a_cache_hit(
    door, client, admin_headers, make_organization, db, renders, runner
):
    org = make_organization(f"Hospital through {door}", beds=60)

    assessment_id, response = DOORS[door](client, admin_headers, org)

    queued = _jobs_of(db, assessment_id)
    assert len(queued) == 1
    job = queued[0]
    assert (job.status, job.cache_key) == (JobStatus.QUEUED, jobs.PENDING_KEY)
    assert job.priority == JobPriority.SINGLE
    assert PlanRequest.from_dict(job.options) == PlanRequest()
    assert _linked_job(response) == str(job.id)
    assert renders == []  # nothing is rendered in the request

    runner(str(job.id))
    db.expire_all()
    assert db.get_one(ReportJob, job.id).status == JobStatus.DONE
    assert len(renders) == 1

    pdf = client.get(f"/v1/assessments/{assessment_id}/report.pdf", headers=admin_headers)
    assert pdf.status_code == 200
    assert pdf.content == FAKE_PDF
    assert len(renders) == 1  # the download was served from the cache
    # The runner recorded the real key, under which the PDF is stored.
    assessment = db.get_one(Assessment, uuid.UUID(assessment_id))
    key = order_report(db, client.app.state.registry, assessment, jobs.DEFAULT_REPORT).key
    assert db.get_one(ReportJob, job.id).cache_key == key
    assert cached_report(db, key) == FAKE_PDF


def test_a_batch_queues_one_job_for_each_submitted_item_only(
    client, admin_headers, make_organization, db, renders, runner
):
    org = make_organization("Batch Hospital", beds=60)
    items = [
        {"organization_id": str(org.id), **COMMUNITY},
        {"organization_id": str(org.id), **COMMUNITY, "status": "draft"},
        {"organization_id": str(uuid.uuid4()), **COMMUNITY},  # refused: not found
    ]

    response = client.post(
        "/v1/assessments/batch", json={"assessments": items}, headers=admin_headers
    )

    assert response.status_code == 200, response.text
    submitted, draft, refused = response.json()["items"]
    assert refused["status"] == "error"
    assert refused["report_job_id"] is None
    assert draft["report_job_id"] is None
    assert _jobs_of(db, draft["assessment"]["id"]) == []
    queued = _jobs_of(db, submitted["assessment"]["id"])
    assert [str(j.id) for j in queued] == [submitted["report_job_id"]]
    assert queued[0].priority == JobPriority.BATCH  # after single calls and the web form
    runner(submitted["report_job_id"])
    pdf = client.get(
        f"/v1/assessments/{submitted['assessment']['id']}/report.pdf", headers=admin_headers
    )
    assert pdf.content == FAKE_PDF
    assert len(renders) == 1


def test_a_draft_queues_nothing(client, admin_headers, make_organization, db):
    org = make_organization()
    draft = _draft(client, admin_headers, org)
    saved = client.patch(
        f"/v1/assessments/{draft}",
        json={"answers": COMMUNITY["answers"][:2]},
        headers=admin_headers,
    )
    assert saved.status_code == 200
    assert "link" not in saved.headers
    resource = json.loads(
        (PROJECT_ROOT / "examples" / "fhir" / "community-hospital.json").read_text("utf-8")
    )
    resource["subject"] = {"reference": f"Organization/{org.id}"}
    resource["status"] = "in-progress"
    fhir = client.post(
        "/fhir/r4/QuestionnaireResponse",
        content=json.dumps(resource),
        headers={**admin_headers, "Content-Type": "application/fhir+json"},
    )
    assert fhir.status_code == 201
    assert "link" not in fhir.headers
    assert db.scalar(select(ReportJob.id).where(ReportJob.organization_id == org.id)) is None


def test_a_refused_submit_leaves_no_job(client, admin_headers, make_organization, db):
    org = make_organization()
    body = {"organization_id": str(org.id), **COMMUNITY, "answers": COMMUNITY["answers"][:3]}
    response = client.post("/v1/assessments", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert db.scalar(select(ReportJob.id).where(ReportJob.organization_id == org.id)) is None


def test_the_setting_turns_the_pre_render_off(client, admin_headers, make_organization, db):
    client.app.state.settings = client.app.state.settings.model_copy(
        update={"prerender_reports": False}
    )
    assessment_id, response = _post_submitted(client, admin_headers, make_organization())
    assert "link" not in response.headers
    assert _jobs_of(db, assessment_id) == []


# -- finding the pre-render, within scope ------------------------------------------------------


def test_the_pre_render_is_found_by_assessment_within_the_keys_scope(
    client, admin_headers, make_organization, make_key
):
    ours, theirs = make_organization("Ours"), make_organization("Theirs")
    assessment_id, response = _post_submitted(client, admin_headers, ours)
    job_id = _linked_job(response)
    partner = bearer(make_key("partner", [ours.id]))
    outsider = bearer(make_key("partner", [theirs.id]))

    found = client.get("/v1/reports", params={"assessment_id": assessment_id}, headers=partner)
    assert found.status_code == 200, found.text
    assert [j["id"] for j in found.json()["items"]] == [job_id]
    assert client.get(f"/v1/reports/{job_id}", headers=partner).status_code == 200

    hidden = client.get("/v1/reports", params={"assessment_id": assessment_id}, headers=outsider)
    assert hidden.status_code == 404
    assert hidden.json()["error"] == "not_found"
    unknown = client.get(
        "/v1/reports", params={"assessment_id": str(uuid.uuid4())}, headers=partner
    )
    assert unknown.status_code == 404
    assert client.get(f"/v1/reports/{job_id}", headers=outsider).status_code == 404
    other, _ = _post_submitted(client, admin_headers, theirs)
    mine = client.get("/v1/reports", params={"assessment_id": other}, headers=admin_headers)
    assert [j["assessment_id"] for j in mine.json()["items"]] == [other]


# -- on PostgreSQL the queue's message is written in the submit's transaction -------------------


@pytest.mark.postgres
def test_on_postgresql_the_submit_puts_the_job_on_the_worker_queue(
    client, admin_headers, make_organization, db, engine
):
    if engine.dialect.name != "postgresql":
        pytest.skip("the queue lives in PostgreSQL")
    client.app.state.report_queue = queue.client_app(
        engine.url.render_as_string(hide_password=False)
    )
    _, response = _post_submitted(client, admin_headers, make_organization())
    job_id = _linked_job(response)

    lock, priority = db.execute(
        text(
            "SELECT queueing_lock, priority FROM procrastinate.procrastinate_jobs "
            "WHERE args->>'job_id' = :id AND status = 'todo'"
        ),
        {"id": job_id},
    ).one()
    assert (lock, priority) == (job_id, JobPriority.SINGLE)  # workers take it in turn
    # A draft puts nothing there.
    before = db.scalar(text("SELECT count(*) FROM procrastinate.procrastinate_jobs"))
    _draft(client, admin_headers, make_organization("Drafting"))
    assert db.scalar(text("SELECT count(*) FROM procrastinate.procrastinate_jobs")) == before


# -- a download while the pre-render runs waits for it, bounded ---------------------------------


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[World]:
    """A database of its own with real commits: a submitted assessment and its pre-render."""
    with submitted_world(fresh_database_url, "Waiting", prerender=True) as made:
        yield made


def _wait(
    factory: sessionmaker[Session], registry: Any, assessment_id: uuid.UUID, timeout: float
) -> float:
    started = time.monotonic()
    with factory() as session:  # a request's session: begun on first use, committed by its owner
        assessment = session.get_one(Assessment, assessment_id)
        http_reports.wait_for_prerender(
            session,
            registry,
            assessment,
            jobs.DEFAULT_REPORT,
            Settings(render_timeout_seconds=timeout),
        )
    return time.monotonic() - started


def test_a_download_waits_for_the_running_pre_render_instead_of_rendering_again(world):
    factory, registry, assessment_id = world
    with transaction(factory) as session:
        job = jobs.claim_next(session)
        assert job is not None
        job_id = job.id
        assessment = session.get_one(Assessment, assessment_id)
        key = order_report(session, registry, assessment, jobs.DEFAULT_REPORT).key
        session.get_one(ReportJob, job_id).cache_key = key

    def finish_later() -> None:
        time.sleep(0.6)
        with transaction(factory) as session:
            store_report(session, key, FAKE_PDF, 600)
            jobs.finish(session, job_id)

    worker = threading.Thread(target=finish_later)
    worker.start()
    waited = _wait(factory, registry, assessment_id, timeout=30)
    worker.join()

    assert 0.5 <= waited < 5
    with transaction(factory) as session:
        assert cached_report(session, key) == FAKE_PDF


def test_the_wait_for_a_running_pre_render_ends_with_the_render_timeout(world):
    factory, registry, assessment_id = world
    with transaction(factory) as session:
        assert jobs.claim_next(session) is not None  # running, and never finishing

    waited = _wait(factory, registry, assessment_id, timeout=1)

    assert 0.9 <= waited < 3


def test_a_pre_render_no_runner_takes_is_waited_for_briefly(world, monkeypatch):
    factory, registry, assessment_id = world
    monkeypatch.setattr(http_reports, "QUEUED_GRACE_SECONDS", 0.3)

    waited = _wait(factory, registry, assessment_id, timeout=30)

    assert 0.25 <= waited < 2


def test_without_a_job_under_way_a_download_does_not_wait(world):
    factory, registry, assessment_id = world
    with transaction(factory) as session:
        job = jobs.claim_next(session)
        assert job is not None
        jobs.finish(session, job.id, error="rendering failed: boom")

    assert _wait(factory, registry, assessment_id, timeout=30) < 0.5
    with transaction(factory) as session:
        assert session.scalar(select(ReportFile.cache_key)) is None


def test_a_retried_submit_gets_the_same_link_and_queues_nothing_more(
    client, admin_headers, make_organization, db
):
    org = make_organization()
    body = {"organization_id": str(org.id), **COMMUNITY}
    headers = {**admin_headers, "Idempotency-Key": f"submit-{uuid.uuid4()}"}

    first = client.post("/v1/assessments", json=body, headers=headers)
    again = client.post("/v1/assessments", json=body, headers=headers)

    assert again.headers.get("idempotent-replayed") == "true"
    assert _linked_job(again) == _linked_job(first)
    assert len(_jobs_of(db, first.json()["id"])) == 1
