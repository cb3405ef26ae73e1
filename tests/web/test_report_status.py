"""The results page and the roadmap PDF while it is being prepared, once ready, and failed.

Without a script the page reloads itself (a refresh inside ``noscript``) while the PDF is
prepared; the browser tests cover the script. The render is a counting stand-in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.http.reports import recheck_seconds
from app.intake.models import Assessment
from app.jobs import service as jobs
from app.jobs.models import JobPriority, JobStatus, ReportJob
from app.questionnaire.registry import QuestionnaireRegistry
from tests.conftest import bearer, example
from tests.support.jobs import FAKE_PDF, counted_renders, runner_in
from tests.web.conftest import Invited, answer_everything, csrf_of

STATUS = re.compile(r'<div id="report-status"[^>]*data-state="(?P<state>[a-z]+)"')
REFRESH = '<noscript><meta http-equiv="refresh" content="3"></noscript>'


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return counted_renders(monkeypatch)


@pytest.fixture
def runner(connection: Connection, registry: QuestionnaireRegistry) -> Callable[[uuid.UUID], None]:
    return runner_in(connection, registry)


@pytest.fixture
def submitted(visitor: TestClient, invited: Invited, db: Session) -> ReportJob:
    """The invitation answered and submitted through the form; its one pre-render job."""
    return _submit_through_the_form(visitor, invited, db)


def _submit_through_the_form(visitor: TestClient, invited: Invited, db: Session) -> ReportJob:
    assert visitor.post("/form/start", data={"csrf_token": csrf_of(visitor)}).status_code == 200
    answer_everything(visitor)
    response = visitor.post(
        "/form/submit",
        data={"csrf_token": csrf_of(visitor, "/form/review")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/form/results"
    assessment = db.scalar(
        select(Assessment).where(Assessment.organization_id == invited.organization.id)
    )
    assert assessment is not None
    db.expire_all()
    queued = list(db.scalars(select(ReportJob).where(ReportJob.assessment_id == assessment.id)))
    assert len(queued) == 1
    return queued[0]


def _state(page: Any) -> str:
    match = STATUS.search(page.text)
    assert match is not None, page.text
    return match["state"]


def _links(page: Any) -> list[str]:
    """The download links' paragraphs, as the page sends them (hidden or not)."""
    return re.findall(
        r'<p class="report-link"( hidden)?><a [^>]*href="/form/roadmap.pdf"', page.text
    )


def test_while_the_pdf_is_prepared_the_page_says_so_and_reloads_itself(visitor, submitted, renders):
    page = visitor.get("/form/results")

    assert page.status_code == 200
    assert _state(page) == "preparing"
    assert "Preparing your PDF…" in page.text
    assert REFRESH in page.text  # only without a script: the script asks instead
    assert 'role="status"' in page.text
    assert _links(page) == [" hidden", " hidden"]
    assert visitor.get("/form/roadmap-status").json() == {"state": "preparing"}
    assert renders == []  # the page renders nothing itself
    assert submitted.requested_by_key_id is None


def test_the_longer_the_pdf_takes_the_less_often_the_page_reloads(visitor, submitted, db):
    # Behind a backlog of renders, pages reloading every 3 s would take the CPU the
    # renders need: a tenth of the wait, from 3 s up to 15 s.
    assessment = db.get(Assessment, submitted.assessment_id)
    for waited, interval in ((0, 3), (60, 6), (120, 12), (3600, 15)):
        db.execute(
            update(Assessment)
            .where(Assessment.id == assessment.id)
            .values(submitted_at=utcnow() - timedelta(seconds=waited))
        )
        db.commit()

        page = visitor.get("/form/results")

        assert _state(page) == "preparing"
        assert f'<meta http-equiv="refresh" content="{interval}">' in page.text, waited


@given(st.floats(min_value=0, max_value=10**6))
def test_the_reload_interval_grows_with_the_wait_and_stays_between_3_and_15_s(seconds):
    interval = recheck_seconds(timedelta(seconds=seconds))

    assert 3 <= interval <= 15
    assert interval <= recheck_seconds(timedelta(seconds=seconds + 10))


def test_once_the_pre_render_is_done_the_page_offers_the_cached_pdf(
    visitor, submitted, renders, runner
):
    runner(submitted.id)

    page = visitor.get("/form/results")

    assert _state(page) == "ready"
    assert REFRESH not in page.text
    assert "Preparing" not in page.text
    assert _links(page) == ["", ""]
    assert visitor.get("/form/roadmap-status").json() == {"state": "ready"}
    pdf = visitor.get("/form/roadmap.pdf")
    assert pdf.status_code == 200
    assert pdf.content == FAKE_PDF
    assert len(renders) == 1  # the job's; the download came from the cache


def test_when_the_pre_render_failed_the_page_says_so_and_the_download_still_works(
    visitor, submitted, renders, db
):
    jobs.finish(db, submitted.id, error="rendering failed: boom")
    db.commit()

    page = visitor.get("/form/results")

    assert _state(page) == "failed"
    assert REFRESH not in page.text
    assert "could not be prepared in advance" in page.text
    assert _links(page) == ["", ""]
    assert visitor.get("/form/roadmap-status").json() == {"state": "failed"}
    pdf = visitor.get("/form/roadmap.pdf")  # rendered now, on demand
    assert pdf.content == FAKE_PDF
    assert len(renders) == 1
    assert _state(visitor.get("/form/results")) == "ready"


def test_a_pre_render_that_no_runner_took_for_long_no_longer_holds_the_link_back(
    visitor, submitted, db
):
    db.execute(
        update(ReportJob)
        .where(ReportJob.id == submitted.id)
        .values(created_at=utcnow() - timedelta(minutes=10))
    )
    db.commit()

    page = visitor.get("/form/results")

    assert _state(page) == "ready"
    assert _links(page) == ["", ""]


def test_an_old_pre_render_waits_its_turn_while_runners_work_through_a_backlog(
    visitor, submitted, db
):
    # Another report's job ahead of it in the queue, taken by a runner a minute ago.
    values = {
        c: getattr(submitted, c)
        for c in ("assessment_id", "organization_id", "options", "attempts")
    }
    minute_ago = utcnow() - timedelta(minutes=1)
    ahead = ReportJob(
        **values,
        cache_key="0" * 64,
        status=JobStatus.RUNNING.value,
        created_at=minute_ago,
    )
    ahead.heartbeat_at = minute_ago
    db.add(ahead)
    db.execute(
        update(ReportJob)
        .where(ReportJob.id == submitted.id)
        .values(created_at=utcnow() - timedelta(minutes=10))
    )
    db.commit()

    page = visitor.get("/form/results")

    assert _state(page) == "preparing"  # not a render of its own in the API process
    assert visitor.get("/form/roadmap-status").json() == {"state": "preparing"}

    # Once no runner has been seen for longer than the patience, the link is offered.
    db.execute(
        update(ReportJob)
        .where(ReportJob.id == ahead.id)
        .values(heartbeat_at=utcnow() - timedelta(minutes=10))
    )
    db.commit()
    assert _state(visitor.get("/form/results")) == "ready"


def test_the_forms_pre_render_goes_before_partner_jobs_queued_earlier(
    visitor, invited, db, make_key, make_organization
):
    partner_org = make_organization("A partner's client", beds=60)
    partner = bearer(make_key("partner", [partner_org.id]))
    body = {"organization_id": str(partner_org.id), **example("community-hospital")}
    batch = visitor.post("/v1/assessments/batch", json={"assessments": [body] * 3}, headers=partner)
    assert batch.status_code == 200, batch.text
    single = visitor.post("/v1/assessments", json=body, headers=partner)
    assert single.status_code == 201, single.text

    web = _submit_through_the_form(visitor, invited, db)

    assert web.priority == JobPriority.PERSON
    taken = [jobs.claim_next(db) for _ in range(5)]
    assert jobs.claim_next(db) is None
    assert [job.id if job else None for job in taken[:2]] == [
        web.id,
        uuid.UUID(single.headers["link"].split("/")[3].split(">")[0]),
    ]
    assert {str(job.id) for job in taken[2:] if job} == {
        item["report_job_id"] for item in batch.json()["items"]
    }


def test_a_running_pre_render_is_still_preparing(visitor, submitted, db):
    assert jobs.claim_next(db) is not None
    db.commit()
    assert db.get_one(ReportJob, submitted.id, populate_existing=True).status == JobStatus.RUNNING

    assert _state(visitor.get("/form/results")) == "preparing"


def test_the_status_is_only_for_a_submitted_assessment(visitor):
    response = visitor.get("/form/roadmap-status")
    assert response.status_code == 409
