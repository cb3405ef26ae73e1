"""Report batches: one job per organization in scope, and the job list to follow them."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import bearer, example


def _submit(client, headers, organization_id, status="submitted", name="community-hospital"):
    body = {**example(name), "status": status, "organization_id": str(organization_id)}
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def clients(client, admin_headers, make_key, make_organization):
    """A consultant with three organizations: assessed twice, draft only, never assessed;
    and a foreign organization with a submitted assessment."""
    lakeside = make_organization("Lakeside Community Hospital")
    pinewood = make_organization("Pinewood Clinic")
    hilltop = make_organization("Hilltop Hospital")
    foreign = make_organization("Foreign Medical Center")
    _submit(client, admin_headers, lakeside.id, name="academic-medical-center")
    latest = _submit(client, admin_headers, lakeside.id)
    _submit(client, admin_headers, pinewood.id, status="draft")
    _submit(client, admin_headers, foreign.id)
    consultant = make_key("consultant", [lakeside.id, pinewood.id, hilltop.id])
    return {
        "consultant": bearer(consultant),
        "lakeside": lakeside,
        "pinewood": pinewood,
        "hilltop": hilltop,
        "foreign": foreign,
        "latest": latest,
    }


def test_a_batch_queues_each_organization_s_latest_submitted_assessment(client, clients):
    response = client.post("/v1/reports/batch", headers=clients["consultant"])

    assert response.status_code == 202, response.text
    body = response.json()
    (job,) = body["jobs"]
    assert job["organization_id"] == str(clients["lakeside"].id)
    assert job["organization_name"] == "Lakeside Community Hospital"
    assert job["assessment_id"] == clients["latest"]
    assert job["status"] == "queued"
    assert response.headers["retry-after"] == "3"  # when to poll the jobs
    skipped = {s["organization_name"]: s["reason"] for s in body["skipped"]}
    assert skipped == {
        "Hilltop Hospital": "It has no submitted assessment yet.",
        "Pinewood Clinic": "It has no submitted assessment yet.",
    }
    assert body["errors"] == []
    polled = client.get(f"/v1/reports/{job['id']}", headers=clients["consultant"])
    assert polled.status_code == 200
    assert polled.json()["assessment_id"] == clients["latest"]


def test_a_batch_job_is_the_same_report_a_single_request_makes(client, clients, db):
    from app.jobs.models import ReportJob

    batch = client.post("/v1/reports/batch", headers=clients["consultant"]).json()
    single = client.post(
        f"/v1/assessments/{clients['latest']}/reports", headers=clients["consultant"]
    ).json()

    keys = {
        db.get_one(ReportJob, uuid.UUID(job_id)).cache_key
        for job_id in (batch["jobs"][0]["id"], single["id"])
    }
    assert len(keys) == 1


def test_the_admin_batch_covers_every_organization(client, admin_headers, clients):
    body = client.post("/v1/reports/batch", headers=admin_headers).json()

    queued = {job["organization_id"] for job in body["jobs"]}
    assert {str(clients["lakeside"].id), str(clients["foreign"].id)} <= queued


def test_listed_ids_limit_the_batch_and_foreign_ones_answer_like_missing_ones(client, clients):
    missing = uuid.uuid4()
    foreign = clients["foreign"].id
    wanted = [str(clients["lakeside"].id), str(foreign), str(missing), str(clients["lakeside"].id)]

    response = client.post(
        "/v1/reports/batch", json={"organization_ids": wanted}, headers=clients["consultant"]
    )

    assert response.status_code == 202
    body = response.json()
    assert [job["organization_id"] for job in body["jobs"]] == [str(clients["lakeside"].id)]
    assert body["skipped"] == []
    seen_foreign, seen_missing = body["errors"]
    assert seen_foreign == {
        **seen_missing,
        "organization_id": str(foreign),
        "detail": seen_missing["detail"].replace(str(missing), str(foreign)),
    }
    assert seen_foreign["error"] == "not_found"
    assert "Foreign" not in response.text


def test_partners_may_not_queue_batches(client, clients, make_key):
    partner = bearer(make_key("partner", [clients["lakeside"].id]))

    response = client.post("/v1/reports/batch", headers=partner)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_a_malformed_batch_body_is_422_naming_the_field(client, clients):
    response = client.post(
        "/v1/reports/batch", json={"organization_ids": ["lakeside"]}, headers=clients["consultant"]
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organization_ids[0]"


def test_the_job_list_follows_a_batch_within_scope(client, admin_headers, clients):
    client.post(f"/v1/assessments/{clients['latest']}/reports", headers=admin_headers)
    foreign_assessment = client.get(
        "/v1/assessments",
        params={"organization_id": str(clients["foreign"].id)},
        headers=admin_headers,
    ).json()["items"][0]["id"]
    client.post(f"/v1/assessments/{foreign_assessment}/reports", headers=admin_headers)
    batch = client.post("/v1/reports/batch", headers=clients["consultant"]).json()

    page = client.get(
        "/v1/reports", params={"status": "queued", "limit": 1}, headers=clients["consultant"]
    ).json()
    everything = client.get("/v1/reports", headers=clients["consultant"]).json()

    # Lakeside's: the batch's job, the one POSTed, and the pre-render of each of its submits.
    assert page["total"] == 4
    assert page["items"][0]["id"] == batch["jobs"][0]["id"]  # newest first
    assert {item["organization_id"] for item in everything["items"]} == {
        str(clients["lakeside"].id)
    }
    done = client.get("/v1/reports", params={"status": "done"}, headers=clients["consultant"])
    assert done.json()["total"] == 0


def test_the_job_list_refuses_an_organization_out_of_scope(client, clients):
    response = client.get(
        "/v1/reports",
        params={"organization_id": str(clients["foreign"].id)},
        headers=clients["consultant"],
    )

    assert response.status_code == 404


def test_the_job_list_refuses_an_unknown_status(client, clients):
    response = client.get("/v1/reports", params={"status": "lost"}, headers=clients["consultant"])

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


@pytest.mark.postgres
def test_on_the_worker_queue_a_batch_puts_each_job_on_it_in_its_transaction(
    app, client, clients, db
):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the worker queue lives in PostgreSQL")
    from sqlalchemy import text

    from app.jobs import queue

    app.state.report_queue = queue.client_app(
        db.get_bind().engine.url.render_as_string(hide_password=False)
    )
    try:
        response = client.post("/v1/reports/batch", headers=clients["consultant"])
    finally:
        del app.state.report_queue

    assert response.status_code == 202, response.text
    job_ids = [job["id"] for job in response.json()["jobs"]]
    locks = db.scalars(text("SELECT queueing_lock FROM procrastinate.procrastinate_jobs")).all()
    assert locks == job_ids
