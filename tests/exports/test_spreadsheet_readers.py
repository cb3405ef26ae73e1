"""The exports as analysts open them: pandas with its defaults, Excel through openpyxl."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests.conftest import example
from tests.support.questionnaires import definition_of

DEFINITION = definition_of(1)
PODCAST = "pr_podcast"  # allows not applicable; the community hospital answers it so
PODCAST_LABELS = {
    o.value: o.label for q in DEFINITION.questions if q.id == PODCAST for o in q.options
}
ALL = {"status": "all"}


def _post(client, headers, organization_id, answers, status) -> str:
    body = {
        **example("community-hospital"),
        "questionnaire": {"id": "hospital-social-media", "version": 1},
        "organization_id": str(organization_id),
        "status": status,
        "answers": answers,
    }
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    identifier: str = response.json()["id"]
    return identifier


@pytest.fixture
def three_podcasts(client, admin_headers, make_organization) -> dict[str, str]:
    """Assessments whose podcast question is not applicable, unanswered and answered."""
    answers: list[dict[str, Any]] = example("community-hospital")["answers"]
    assert {"question_id": PODCAST, "na": True} in answers
    others = [a for a in answers if a["question_id"] != PODCAST]
    organization = make_organization("Lakeside Community Hospital", beds=60)
    return {
        "not_applicable": _post(client, admin_headers, organization.id, answers, "submitted"),
        "unanswered": _post(client, admin_headers, organization.id, others[:5], "draft"),
        "answered": _post(
            client,
            admin_headers,
            organization.id,
            [*others[:5], {"question_id": PODCAST, "value": "regular"}],
            "draft",
        ),
    }


def _download(client, headers, extension: str) -> bytes:
    response = client.get(f"/v1/exports/assessments.{extension}", params=ALL, headers=headers)
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


def test_pandas_reads_not_applicable_and_unanswered_csv_cells_apart(
    client, admin_headers, three_podcasts
):
    content = _download(client, admin_headers, "csv")

    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel decodes names right
    frame = pd.read_csv(io.BytesIO(content))  # every default: na_values, encoding
    assert frame.columns[0] == "assessment_id"  # the BOM is not glued to the first name
    by_id = frame.set_index("assessment_id")
    assert by_id.loc[three_podcasts["not_applicable"], PODCAST] == "not applicable"
    assert by_id.loc[three_podcasts["not_applicable"], f"{PODCAST}_label"] == "not applicable"
    assert pd.isna(by_id.loc[three_podcasts["unanswered"], PODCAST])
    assert pd.isna(by_id.loc[three_podcasts["unanswered"], f"{PODCAST}_label"])
    assert by_id.loc[three_podcasts["answered"], PODCAST] == "regular"
    assert by_id.loc[three_podcasts["answered"], f"{PODCAST}_label"] == PODCAST_LABELS["regular"]
    assert by_id[PODCAST].isna().sum() == 1
    assert by_id[PODCAST].value_counts()["not applicable"] == 1


def test_pandas_reads_not_applicable_and_unanswered_xlsx_cells_apart(
    client, admin_headers, three_podcasts
):
    content = _download(client, admin_headers, "xlsx")

    sheets = pd.read_excel(io.BytesIO(content), sheet_name=None)  # defaults again
    assert list(sheets) == ["Assessments", "Questions"]
    by_id = sheets["Assessments"].set_index("assessment_id")
    assert by_id.loc[three_podcasts["not_applicable"], PODCAST] == "not applicable"
    assert pd.isna(by_id.loc[three_podcasts["unanswered"], PODCAST])
    assert by_id.loc[three_podcasts["answered"], f"{PODCAST}_label"] == PODCAST_LABELS["regular"]
    csv_frame = pd.read_csv(io.BytesIO(_download(client, admin_headers, "csv")))
    assert list(sheets["Assessments"].columns) == list(csv_frame.columns)


def test_multiple_choices_carry_their_labels_beside_their_codes(
    client, admin_headers, three_podcasts
):
    frame = pd.read_csv(io.BytesIO(_download(client, admin_headers, "csv")))

    row = frame.set_index("assessment_id").loc[three_podcasts["not_applicable"]]
    question = next(q for q in DEFINITION.questions if q.id == "pr_content_mix")
    labels = {o.value: o.label for o in question.options}
    assert row["pr_content_mix"] == "access_info;community;careers"
    assert row["pr_content_mix_label"] == "; ".join(
        labels[code] for code in ("access_info", "community", "careers")
    )
    columns = list(frame.columns)
    assert columns.index("pr_content_mix_label") == columns.index("pr_content_mix") + 1
    free_text = next(q.id for q in DEFINITION.questions if q.type == "text")
    assert f"{free_text}_label" not in columns


def test_the_questions_sheet_lists_each_question_with_its_prompt_and_options(
    client, admin_headers, three_podcasts
):
    sheets = pd.read_excel(io.BytesIO(_download(client, admin_headers, "xlsx")), sheet_name=None)

    questions = sheets["Questions"].set_index("question_id")
    assert list(questions.index) == [q.id for q in DEFINITION.questions]
    podcast = questions.loc[PODCAST]
    assert podcast["prompt"] == next(q.prompt for q in DEFINITION.questions if q.id == PODCAST)
    assert podcast["type"] == "single_choice"
    assert bool(podcast["allows_not_applicable"]) is True
    assert podcast["options"] == "; ".join(
        f"{value} = {label}" for value, label in PODCAST_LABELS.items()
    )
    assert set(questions["column"]) <= set(sheets["Assessments"].columns)


def test_both_sheets_keep_their_header_in_view_with_a_filter(client, admin_headers, three_podcasts):
    workbook = load_workbook(io.BytesIO(_download(client, admin_headers, "xlsx")))

    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        last = f"{get_column_letter(sheet.max_column)}{sheet.max_row}"
        assert sheet.auto_filter.ref == f"A1:{last}", sheet.title
    assert workbook["Assessments"].max_row == 1 + len(three_podcasts)
