"""POST /v1/assessments/batch: each item stored or refused on its own, in order."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.intake.models import Assessment
from app.organizations.models import Organization
from tests.conftest import bearer, example

GOOD = example("community-hospital")


def _good(organization: Organization) -> dict[str, Any]:
    return {**GOOD, "organization_id": str(organization.id)}


def _count(db: Session, organization: Organization) -> int:
    db.expire_all()
    query = select(func.count()).where(Assessment.organization_id == organization.id)
    return db.scalar(query) or 0


# Ways an item can be bad, each with the field its error must name.
BAD_ITEMS = {
    "unknown question": (
        lambda org: {
            **_good(org),
            "answers": [*GOOD["answers"], {"question_id": "no-such", "value": 1}],
        },
        f"answers[{len(GOOD['answers'])}]",
    ),
    "wrong value type": (
        lambda org: {**_good(org), "answers": [{**GOOD["answers"][0], "value": {"x": 1}}]},
        "answers[0].value",
    ),
    "incomplete submission": (
        lambda org: {**_good(org), "answers": GOOD["answers"][:2], "status": "submitted"},
        "answers",
    ),
    "missing organization": (
        lambda org: {k: v for k, v in _good(org).items() if k != "organization_id"},
        "organization_id",
    ),
    "unknown questionnaire": (
        lambda org: {**_good(org), "questionnaire": {"id": "no-such-questionnaire"}},
        None,
    ),
}


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["good", *BAD_ITEMS]), min_size=1, max_size=8))
def test_exactly_the_good_items_are_stored(client, db, admin_headers, make_organization, kinds):
    organization = make_organization(f"Batch Hospital {uuid.uuid4()}")
    items = [_good(organization) if k == "good" else BAD_ITEMS[k][0](organization) for k in kinds]

    response = client.post(
        "/v1/assessments/batch", json={"assessments": items}, headers=admin_headers
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert [item["index"] for item in result["items"]] == list(range(len(kinds)))
    assert [item["status"] for item in result["items"]] == [
        "created" if k == "good" else "error" for k in kinds
    ]
    assert result["created"] == kinds.count("good")
    assert result["failed"] == len(kinds) - kinds.count("good")
    assert _count(db, organization) == kinds.count("good")
    for index, (kind, item) in enumerate(zip(kinds, result["items"], strict=True)):
        if kind == "good":
            assert item["assessment"]["organization_id"] == str(organization.id)
            assert item["assessment"]["overall_level"] >= 1
            continue
        assert item["error"]
        assert item["detail"]
        field = BAD_ITEMS[kind][1]
        if field is not None:
            fields = [e["field"] for e in item["errors"]]
            assert any(f.startswith(f"assessments[{index}].{field}") for f in fields), fields


def test_an_answer_error_names_the_item_the_answer_and_the_question(
    client, admin_headers, make_organization
):
    organization = make_organization()
    answers = [dict(a) for a in GOOD["answers"]]
    answers[2]["value"] = "not-an-option"
    items = [_good(organization), {**_good(organization), "answers": answers}]

    response = client.post(
        "/v1/assessments/batch", json={"assessments": items}, headers=admin_headers
    )

    error = response.json()["items"][1]
    assert error["status"] == "error"
    assert error["error"] == "invalid_answers"
    assert error["errors"][0]["field"] == "assessments[1].answers[2].value"
    assert error["errors"][0]["question_id"] == answers[2]["question_id"]


def test_an_organization_out_of_scope_is_an_item_not_found(client, db, make_key, make_organization):
    mine, foreign = make_organization("Mine"), make_organization("Foreign")
    partner = make_key("partner", [mine.id])

    response = client.post(
        "/v1/assessments/batch",
        json={"assessments": [_good(foreign), _good(mine)]},
        headers=bearer(partner),
    )

    items = response.json()["items"]
    assert items[0]["status"] == "error"
    assert items[0]["error"] == "not_found"
    assert items[1]["status"] == "created"
    assert _count(db, foreign) == 0
    assert _count(db, mine) == 1


def test_more_than_500_items_is_422_naming_assessments(client, admin_headers):
    stub = {"organization_id": str(uuid.uuid4()), "questionnaire": {"id": "x"}}

    response = client.post(
        "/v1/assessments/batch", json={"assessments": [stub] * 501}, headers=admin_headers
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "assessments"


def test_an_empty_batch_is_422(client, admin_headers):
    response = client.post("/v1/assessments/batch", json={"assessments": []}, headers=admin_headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "assessments"


def test_a_retried_batch_stores_nothing_twice(client, db, admin_headers, make_organization):
    organization = make_organization()
    headers = {**admin_headers, "Idempotency-Key": "batch-1"}
    body = {"assessments": [_good(organization), _good(organization)]}

    first = client.post("/v1/assessments/batch", json=body, headers=headers)
    again = client.post("/v1/assessments/batch", json=body, headers=headers)

    assert again.content == first.content
    assert _count(db, organization) == 2
