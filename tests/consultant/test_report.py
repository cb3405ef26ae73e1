"""The PDF report of an organization followed over time: trend, peers, settings and notes."""

from __future__ import annotations

import uuid
from io import BytesIO

from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker

from app.config import Settings
from app.intake.models import Assessment
from app.jobs.runner import run_job
from app.reports import inputs as delivery
from app.reports.inputs import PlanRequest
from app.reports.render import render_pdf
from tests.consultant.conftest import day
from tests.reports.conftest import flat_text, weasyprint_warnings
from tests.reports.test_safety import Listener, embedded_files, hostile, images

# The listener fixture: an HTTP server that records any request the renderer makes.
from tests.reports.test_safety import listener as listener


def _pdf_text(client, headers, assessment) -> str:
    response = client.get(f"/v1/assessments/{assessment['id']}/report.pdf", headers=headers)
    assert response.status_code == 200, response.text
    return flat_text(PdfReader(BytesIO(response.content)))


def _inputs(db, registry, assessment):
    db.expire_all()
    row = db.get_one(Assessment, uuid.UUID(assessment["id"]))
    return delivery.gather_inputs(db, registry, row)


def test_the_report_shows_a_trend_up_to_its_assessment_from_two_submissions(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    first = submit(org, "community-hospital", on=day(3))
    second = submit(org, "academic-medical-center", on=day(9))
    submit(org, "community-hospital", on=day(11))  # after the report's assessment: not shown

    text = _pdf_text(client, admin_headers, second)

    assert "Progress over time" in text
    assert "Mar 1, 2025" in text
    assert "Sep 1, 2025" in text
    assert "Nov 1, 2025" not in text
    # The table gives each dimension's score and level at each date.
    assert "level 2" in text and "level 4" in text  # noqa: PT018
    assert "Progress over time" not in _pdf_text(client, admin_headers, first)


def test_the_report_ranks_the_organization_among_its_peers(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment = submit(org)
    for n in range(5):
        peer = make_organization(f"Peer Hospital {n}", beds=40)
        submit(peer, "community-hospital" if n < 3 else "academic-medical-center")

    text = _pdf_text(client, admin_headers, assessment)

    assert "Compared with peers" in text
    assert "5 other organizations of the same size" in text
    assert "25th to 50th percentile" in text  # the quarter, not the exact 30th percentile
    assert "30th" not in text
    assert "Peer Hospital" not in text


def test_the_report_says_when_there_are_too_few_peers(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment = submit(org)

    text = _pdf_text(client, admin_headers, assessment)

    assert "Peer benchmarks need at least 5 other organizations" in text
    assert "there are 0" in text


def test_the_cache_key_follows_the_trend_and_the_peer_snapshot(
    db, registry, make_organization, submit, next_snapshot
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment = submit(org, on=day(9))
    peers = [make_organization(f"Peer {n}", beds=40) for n in range(6)]
    for peer in peers[:5]:
        submit(peer)
    alone = delivery.cache_key(_inputs(db, registry, assessment), PlanRequest())

    submit(org, "academic-medical-center", on=day(3))
    with_trend = delivery.cache_key(_inputs(db, registry, assessment), PlanRequest())
    submit(peers[5], "academic-medical-center")
    same_snapshot = delivery.cache_key(_inputs(db, registry, assessment), PlanRequest())
    next_snapshot()
    with_another_peer = delivery.cache_key(_inputs(db, registry, assessment), PlanRequest())

    assert same_snapshot == with_trend  # a peer's new submission waits for the next snapshot
    assert len({alone, with_trend, with_another_peer}) == 3


def test_the_settings_shape_the_pdf_roadmap_and_its_notes(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment = submit(org)
    client.put(
        f"/v1/organizations/{org.id}/roadmap-settings",
        json={"targets": {"security": 4}, "budget": 123_456, "notes": "Start with the policy."},
        headers=admin_headers,
    )

    text = _pdf_text(client, admin_headers, assessment)

    assert "Consultant\u2019s notes" in text
    assert "Start with the policy." in text
    assert "within a budget of $123,456" in text
    assert "Target: Level 4" in text  # the security dimension page


def test_hostile_notes_print_literally_and_fetch_nothing(
    client, admin_headers, db, registry, make_organization, submit, listener: Listener
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment = submit(org)
    attack = hostile(listener)
    stored = client.put(
        f"/v1/organizations/{org.id}/roadmap-settings",
        json={"notes": f"Notes {attack}"},
        headers=admin_headers,
    )
    assert stored.status_code == 200, stored.text

    html = delivery.report_html(_inputs(db, registry, assessment), PlanRequest())
    with weasyprint_warnings() as warnings:
        pdf = render_pdf(html)
    reader = PdfReader(BytesIO(pdf))
    text = flat_text(reader)

    assert listener.requests == []
    assert embedded_files(reader) == []
    assert images(reader) == []
    assert '<img src="file:///etc/passwd">' in text
    assert "root:x:0:0" not in text
    assert [r.getMessage() for r in warnings] == []


def test_a_report_job_uses_the_settings_and_its_own_options_override_them(
    client, admin_headers, connection, registry, make_organization, submit
):
    org = make_organization("Lakeside Community Hospital", beds=60)
    assessment = submit(org)
    client.put(
        f"/v1/organizations/{org.id}/roadmap-settings",
        json={"budget": 123_456, "notes": "Notes the board should read."},
        headers=admin_headers,
    )
    created = client.post(
        f"/v1/assessments/{assessment['id']}/reports",
        json={"targets": {"security": 4}},
        headers=admin_headers,
    )
    assert created.status_code == 202, created.text
    job = created.json()

    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    run_job(factory, registry, Settings(run_report_jobs=False), uuid.UUID(job["id"]))

    status = client.get(f"/v1/reports/{job['id']}", headers=admin_headers).json()
    assert status["status"] == "done", status
    pdf = client.get(status["pdf_url"], headers=admin_headers)
    text = flat_text(PdfReader(BytesIO(pdf.content)))
    assert "Notes the board should read." in text
    assert "within a budget of $123,456" in text
    assert "Target: Level 4" in text  # the security dimension page
