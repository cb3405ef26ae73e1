"""GET /metrics: what a Prometheus scrape sees after people use the service."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr

from tests.conftest import bearer, example


def scrape(client: TestClient, headers: dict[str, str] | None = None) -> list[Sample]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """A sample's value (0 when the series does not exist yet)."""
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    return found[0] if found else 0.0


@pytest.fixture
def organization_id(client, admin_headers) -> str:
    response = client.post(
        "/v1/organizations",
        json={"name": "Lakeside", "type": "community_hospital", "licensed_beds": 60, "state": "MN"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    return str(response.json()["id"])


def submit(client: TestClient, headers: dict[str, str], organization_id: str, status: str) -> str:
    body = {**example("community-hospital"), "organization_id": organization_id, "status": status}
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_submissions_are_counted_by_event_and_source(client, admin_headers, organization_id):
    before = scrape(client)

    draft = submit(client, admin_headers, organization_id, "draft")
    submit(client, admin_headers, organization_id, "submitted")
    patched = client.patch(
        f"/v1/assessments/{draft}", json={"status": "submitted"}, headers=admin_headers
    )
    after = scrape(client)

    assert patched.status_code == 200, patched.text
    created = "smm_assessments_total"
    assert (
        value(after, created, event="created", source="api")
        - value(before, created, event="created", source="api")
        == 2
    )
    assert (
        value(after, created, event="submitted", source="api")
        - value(before, created, event="submitted", source="api")
        == 2
    )


def test_request_latency_is_labelled_by_route_template_never_by_raw_path(
    client, admin_headers, organization_id
):
    assessment = submit(client, admin_headers, organization_id, "submitted")
    client.get(f"/v1/assessments/{assessment}", headers=admin_headers)
    client.get(f"/v1/assessments/{assessment}", headers=admin_headers)
    client.get("/no/such/page")

    samples = scrape(client)

    count = "smm_http_request_duration_seconds_count"
    by_route = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for s in samples
        if s.name == count
    }
    assert by_route[("GET", "/v1/assessments/{assessment_id}", "2xx")] >= 2
    assert by_route[("POST", "/v1/assessments", "2xx")] >= 1
    assert by_route[("GET", "unmatched", "4xx")] >= 1
    every_label_value = {v for s in samples for v in s.labels.values()}
    assert not any(assessment in v or organization_id in v for v in every_label_value)
    assert not any(v.startswith("/no/") for v in every_label_value)


def test_report_jobs_are_counted_by_status_from_the_database(
    client, admin_headers, organization_id
):
    before = scrape(client)
    assessment = submit(client, admin_headers, organization_id, "submitted")
    for level in (3, 4):  # two plans, two jobs; no runner runs them here
        response = client.post(
            f"/v1/assessments/{assessment}/reports",
            json={"targets": {"security": level}},
            headers=admin_headers,
        )
        assert response.status_code == 202, response.text

    after = scrape(client)

    assert (
        value(after, "smm_report_jobs", status="queued")
        - value(before, "smm_report_jobs", status="queued")
        == 3  # the two, and the submit's pre-render of its default report
    )
    assert {s.labels["status"] for s in after if s.name == "smm_report_jobs"} == {
        "queued",
        "running",
        "done",
        "failed",
    }


def test_a_rendered_report_is_timed(client, admin_headers, organization_id):
    assessment = submit(client, admin_headers, organization_id, "submitted")
    before = scrape(client)

    pdf = client.get(f"/v1/assessments/{assessment}/report.pdf", headers=admin_headers)
    cached = client.get(f"/v1/assessments/{assessment}/report.pdf", headers=admin_headers)
    after = scrape(client)

    assert pdf.status_code == cached.status_code == 200
    renders = "smm_report_render_seconds_count"
    assert value(after, renders) - value(before, renders) == 1  # the cached fetch renders none
    seconds = "smm_report_render_seconds_sum"
    assert value(after, seconds) - value(before, seconds) > 0.1  # WeasyPrint takes its time


@pytest.fixture
def guarded_client(app, client) -> TestClient:
    """The client of an app started with SMM_METRICS_TOKEN set."""
    token = SecretStr("scrape-me-please")
    app.state.settings = app.state.settings.model_copy(update={"metrics_token": token})
    return client


def test_with_a_metrics_token_only_a_scraper_that_sends_it_may_read(guarded_client, make_key):
    anonymous = guarded_client.get("/metrics")
    with_api_key = guarded_client.get("/metrics", headers=bearer(make_key("admin")))
    wrong = guarded_client.get("/metrics", headers=bearer("scrape-me"))

    assert anonymous.status_code == with_api_key.status_code == wrong.status_code == 401
    assert anonymous.json()["error"] == "unauthenticated"
    assert scrape(guarded_client, bearer("scrape-me-please"))


def test_metrics_are_open_without_a_token_like_the_probes(client):
    assert value(scrape(client), "smm_report_jobs", status="failed") >= 0
