"""Each API key's budget of report renders and report jobs: 429 with Retry-After when spent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.jobs.models import ReportJob
from app.main import create_app
from app.organizations.models import Organization
from tests.conftest import bearer, example

V1 = {"questionnaire": {"id": "hospital-social-media", "version": 1}}


def _limited_app(client: TestClient, settings: Settings) -> FastAPI:
    """An app on the test's database and transaction, with its own settings."""
    app = create_app(
        settings,
        engine=client.app.state.engine,  # type: ignore[attr-defined]
        registry=client.app.state.registry,  # type: ignore[attr-defined]
    )
    app.state.session_factory = client.app.state.session_factory  # type: ignore[attr-defined]
    return app


@pytest.fixture
def limited(client: TestClient, app_settings: Settings) -> Iterator[TestClient]:
    """The API with a budget of 2 report renders or jobs at once, 1 a minute, per key."""
    settings = app_settings.model_copy(update={"report_rate_burst": 2, "report_rate_limit": 1})
    with TestClient(_limited_app(client, settings)) as limited_client:
        yield limited_client


@pytest.fixture
def assessment_id(
    client: TestClient,
    admin_headers: dict[str, str],
    make_organization: Callable[..., Organization],
) -> str:
    organization = make_organization("Lakeside Community Hospital", beds=60)
    body: dict[str, Any] = {
        **example("community-hospital"),
        **V1,
        "organization_id": str(organization.id),
        "status": "submitted",
    }
    response = client.post("/v1/assessments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    identifier: str = response.json()["id"]
    return identifier


def _assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "rate_limited"
    assert "report" in body["detail"]
    assert int(response.headers["retry-after"]) >= 1
    assert body["retry_after"] == int(response.headers["retry-after"])


def _jobs(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(ReportJob)) or 0


def test_report_jobs_beyond_the_keys_budget_get_429_and_queue_nothing(
    limited: TestClient, admin_headers: dict[str, str], assessment_id: str, db: Session
) -> None:
    url = f"/v1/assessments/{assessment_id}/reports"
    assert limited.post(url, headers=admin_headers).status_code == 202
    assert (
        limited.post(url, json={"targets": {"security": 4}}, headers=admin_headers).status_code
        == 202
    )
    refused = limited.post(url, headers=admin_headers)
    _assert_rate_limited(refused)
    assert _jobs(db) == 3  # the two, and the submit's pre-render (which spends no budget)
    _assert_rate_limited(limited.post("/v1/reports/batch", headers=admin_headers))
    assert _jobs(db) == 3


def test_the_budget_is_per_key(
    limited: TestClient,
    admin_headers: dict[str, str],
    make_key: Callable[..., str],
    assessment_id: str,
) -> None:
    url = f"/v1/assessments/{assessment_id}/reports"
    for _ in range(2):
        assert limited.post(url, headers=admin_headers).status_code == 202
    _assert_rate_limited(limited.post(url, headers=admin_headers))
    other = bearer(make_key("admin"))
    assert limited.post(url, headers=other).status_code == 202


def test_a_batch_counts_once_and_a_refused_batch_queues_no_job(
    limited: TestClient, admin_headers: dict[str, str], assessment_id: str, db: Session
) -> None:
    first = limited.post("/v1/reports/batch", headers=admin_headers)
    assert first.status_code == 202, first.text
    assert len(first.json()["jobs"]) == 1
    assert limited.post("/v1/reports/batch", headers=admin_headers).status_code == 202
    before = _jobs(db)
    _assert_rate_limited(limited.post("/v1/reports/batch", headers=admin_headers))
    assert _jobs(db) == before


def test_pdf_renders_count_but_cached_pdfs_are_always_served(
    limited: TestClient, admin_headers: dict[str, str], assessment_id: str
) -> None:
    pdf = f"/v1/assessments/{assessment_id}/report.pdf"
    first = limited.get(pdf, headers=admin_headers)
    assert first.status_code == 200, first.text
    assert first.content.startswith(b"%PDF")
    assert limited.get(pdf, headers=admin_headers).content == first.content  # from the cache
    jobs = f"/v1/assessments/{assessment_id}/reports"
    assert (
        limited.post(jobs, json={"targets": {"security": 4}}, headers=admin_headers).status_code
        == 202
    )
    # The budget is spent: a new render is refused before it starts, the cached one is not.
    _assert_rate_limited(limited.get(pdf, params={"target": "security=4"}, headers=admin_headers))
    assert limited.get(pdf, headers=admin_headers).content == first.content


def test_the_report_limits_are_settings() -> None:
    settings = Settings(report_rate_limit=5, report_rate_burst=3)
    assert (settings.report_rate_limit, settings.report_rate_burst) == (5, 3)
    defaults = Settings()
    assert defaults.report_rate_burst >= 1
    assert defaults.report_rate_limit >= 1
    with pytest.raises(ValueError, match="report_rate_burst"):
        Settings(report_rate_burst=0)


def test_the_429_is_in_the_openapi_description_of_each_limited_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/v1/assessments/{assessment_id}/report.pdf", "get"),
        ("/v1/assessments/{assessment_id}/reports", "post"),
        ("/v1/reports/batch", "post"),
    ):
        assert "429" in paths[path][method]["responses"], path
