"""Free text reaches the board PDF only when the consultant asks, from every door."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from pypdf import PdfReader

from tests.conftest import EXAMPLES, example
from tests.support.cli import run_smm

COMMENT = "The Facebook page is registered to our marketing coordinator"
V1 = {"id": "hospital-social-media", "version": 1}


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_smm_report_prints_comments_only_with_include_narratives(env, tmp_path):
    plain, narrated = tmp_path / "plain.pdf", tmp_path / "narrated.pdf"
    answers = str(EXAMPLES / "community-hospital.json")

    run_smm("report", answers, "-o", str(plain), "--date", "2026-11-02", env=env)
    run_smm(
        "report",
        answers,
        "-o",
        str(narrated),
        "--date",
        "2026-11-02",
        "--include-narratives",
        env=env,
    )

    assert COMMENT not in pdf_text(plain.read_bytes())
    assert "answered (not printed)" in pdf_text(plain.read_bytes())
    assert COMMENT in pdf_text(narrated.read_bytes())


def test_smm_score_warns_on_stderr_about_an_identifier_in_a_comment(env, tmp_path):
    document = example("community-hospital")
    document["answers"][2]["comment"] = "Her DOB is 04/12/1957, see MRN 00451234."
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(document), encoding="utf-8")

    result = run_smm("score", "--json", str(answers), env=env)

    json.loads(result.stdout)  # stdout stays a JSON document
    assert "Warning: answers[2].comment: pr_account_ownership:" in result.stderr
    assert "date of birth" in result.stderr


@pytest.fixture
def submitted(client, admin_headers, make_organization):
    org = make_organization()
    body = {**example("community-hospital"), "questionnaire": V1, "organization_id": str(org.id)}
    response = client.post("/v1/assessments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_the_pdf_endpoint_prints_narratives_only_when_asked(client, admin_headers, submitted):
    url = f"/v1/assessments/{submitted}/report.pdf"

    plain = client.get(url, headers=admin_headers)
    narrated = client.get(url, params={"include_narratives": "true"}, headers=admin_headers)

    assert plain.status_code == narrated.status_code == 200
    assert COMMENT not in pdf_text(plain.content)
    assert COMMENT in pdf_text(narrated.content)
    # The choice is part of the cache key: asking again without it is not served the other.
    again = client.get(url, headers=admin_headers)
    assert again.content == plain.content


def test_a_report_job_body_takes_include_narratives(client, admin_headers, submitted):
    response = client.post(
        f"/v1/assessments/{submitted}/reports",
        json={"include_narratives": "yes"},
        headers=admin_headers,
    )

    assert response.status_code == 422
    assert "include_narratives" in response.text
    accepted = client.post(
        f"/v1/assessments/{submitted}/reports",
        json={"include_narratives": True},
        headers=admin_headers,
    )
    assert accepted.status_code == 202
