"""The rules the export and the bulk report files must always keep, whatever the input."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from app.exports.bulk import report_file_name
from app.exports.table import (
    FORMULA_STARTS,
    ExportedAssessment,
    ExportLayout,
    csv_chunks,
    merge_in_order,
    neutralise_formula,
)
from app.questionnaire.answers import NA

SAFE_FILE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\.pdf$")


@given(st.text(max_size=300), st.uuids())
def test_report_file_names_are_safe_and_keep_the_id(name, organization_id):
    file_name = report_file_name(name, organization_id)

    assert SAFE_FILE_NAME.match(file_name)
    assert file_name.endswith(f"-{organization_id}.pdf")
    assert len(file_name) <= 60 + 1 + 36 + 4
    assert report_file_name(name, organization_id) == file_name  # stable across runs


@given(st.text(max_size=50), st.uuids(), st.uuids())
def test_two_organizations_never_share_a_file_name(name, first, second):
    if first != second:
        assert report_file_name(name, first) != report_file_name(name, second)


def test_report_file_names_read_like_the_organization():
    organization_id = uuid.UUID("0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11")

    assert report_file_name("St. Zoë's / Ünïversity Hospital", organization_id) == (
        f"st-zoe-s-university-hospital-{organization_id}.pdf"
    )
    assert report_file_name("../../etc/passwd", organization_id).startswith("etc-passwd-")
    assert report_file_name("中文医院", organization_id) == f"organization-{organization_id}.pdf"


@given(st.text())
def test_no_neutralised_text_can_start_a_formula(text):
    shown = neutralise_formula(text)

    assert not shown.startswith(FORMULA_STARTS)
    assert shown in (text, "'" + text)
    assert (shown != text) == text.startswith(FORMULA_STARTS)


sequences = st.lists(st.lists(st.sampled_from("abcdefghij"), unique=True), max_size=5)


@given(sequences)
def test_merged_columns_hold_each_item_once_and_keep_the_first_order(lists):
    merged = merge_in_order(lists)

    assert sorted(merged) == sorted({item for items in lists for item in items})
    if lists:
        positions = [merged.index(item) for item in lists[0]]
        assert positions == sorted(positions)


def test_a_question_added_in_a_later_version_sits_after_its_predecessor():
    assert merge_in_order([["a", "b", "c"], ["a", "x", "b", "c", "y"]]) == [
        "a",
        "x",
        "b",
        "c",
        "y",
    ]


@given(
    st.dictionaries(
        st.sampled_from(["q1", "q2", "q3"]),
        st.one_of(
            st.just(NA),
            st.text(),
            st.booleans(),
            st.integers(-1000, 1000),
            st.lists(st.text(alphabet="abc_", min_size=1), max_size=3),
        ),
    ),
    st.text(),
)
def test_every_csv_row_reads_back_with_one_cell_per_column(answers, name):
    layout = ExportLayout(("presence",), (("quiz", "q1"), ("quiz", "q2"), ("quiz", "q3")))
    row = ExportedAssessment(
        id=uuid.uuid4(),
        organization_id=uuid.uuid4(),
        organization_name=name,
        questionnaire_id="quiz",
        questionnaire_version=1,
        status="submitted",
        submitted_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        overall_level=2,
        overall_score=41.5,
        dimensions={"presence": (41.5, 2)},
        answers=answers,
    )

    text = "".join(csv_chunks(layout, [row]))
    assert text.startswith("\ufeff")
    header, cells = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))

    assert len(cells) == len(header) == len(layout.header())
    record = dict(zip(header, cells, strict=True))
    assert record["organization_name"] == neutralise_formula(name)
    assert record["submitted_at"] == "2026-11-02T09:30:00+00:00"
    for question in ("q1", "q2", "q3"):
        if question not in answers:
            assert record[question] == ""
        elif answers[question] is NA:
            assert record[question] == "not applicable"
        elif isinstance(answers[question], list):
            assert record[question] == ";".join(answers[question])
        elif isinstance(answers[question], str):
            assert record[question] == neutralise_formula(answers[question])
