"""Integer fields take integer-valued numbers (207.0), as JSON Schema's "integer" does.

A client generated from the OpenAPI description, or one that only has floats (JavaScript
after arithmetic, pandas), may send 207.0; it is the integer 207 and is stored as one.
A fractional number (207.5), a string or a boolean is still refused naming the field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from tests.conftest import example

V1 = {"id": "hospital-social-media", "version": 1}
ANSWERS = {**example("community-hospital"), "questionnaire": V1}
ORGANIZATION = {
    "name": "Lakeside",
    "type": "community_hospital",
    "licensed_beds": 60,
    "state": "MN",
}
FHIR_JSON = "application/fhir+json"


def _answers(question_id: str, value: Any) -> list[dict[str, Any]]:
    answers = [dict(a) for a in ANSWERS["answers"] if a["question_id"] != question_id]
    return [*answers, {"question_id": question_id, "value": value}]


def _answer(assessment: dict[str, Any], question_id: str) -> Any:
    (value,) = [a["value"] for a in assessment["answers"] if a["question_id"] == question_id]
    return value


def test_the_description_calls_licensed_beds_an_integer(client):
    schemas = client.app.openapi()["components"]["schemas"]

    assert schemas["OrganizationCreate"]["properties"]["licensed_beds"]["type"] == "integer"


def test_integer_valued_licensed_beds_are_taken_as_integers(client, admin_headers):
    created = client.post(
        "/v1/organizations", json={**ORGANIZATION, "licensed_beds": 207.0}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["licensed_beds"] == 207
    assert '"licensed_beds":207,' in created.text  # an integer, not 207.0

    patched = client.patch(
        f"/v1/organizations/{created.json()['id']}",
        json={"licensed_beds": 1e3},
        headers=admin_headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["licensed_beds"] == 1000


@pytest.mark.parametrize("beds", [207.5, 1e-9, "207", True, 1e30])
def test_licensed_beds_that_are_not_a_whole_number_in_range_are_refused(
    client, admin_headers, beds
):
    response = client.post(
        "/v1/organizations", json={**ORGANIZATION, "licensed_beds": beds}, headers=admin_headers
    )

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["licensed_beds"]


@pytest.mark.parametrize(
    ("question_id", "sent", "stored"),
    [("pr_posts_per_week", 12.0, 12), ("pr_clinician_participation", 3.0, 3)],
    ids=["number with integer: true", "scale"],
)
def test_integer_valued_answers_to_integer_questions_are_stored_as_integers(
    client, admin_headers, organization_id, question_id, sent, stored
):
    body = {
        **ANSWERS,
        "organization_id": organization_id,
        "questionnaire": {"id": "hospital-social-media", "version": 1.0},
        "answers": _answers(question_id, sent),
    }

    response = client.post("/v1/assessments", json=body, headers=admin_headers)

    assert response.status_code == 201, response.text
    assert response.json()["questionnaire"] == V1
    value = _answer(response.json(), question_id)
    assert value == stored
    assert type(value) is int


@pytest.mark.parametrize("question_id", ["pr_posts_per_week", "pr_clinician_participation"])
def test_fractional_answers_to_integer_questions_are_refused(
    client, admin_headers, organization_id, question_id
):
    body = {**ANSWERS, "organization_id": organization_id, "answers": _answers(question_id, 2.5)}

    response = client.post("/v1/assessments", json=body, headers=admin_headers)

    assert response.status_code == 422, response.text
    assert any(e["question_id"] == question_id for e in response.json()["errors"])


def test_a_batch_takes_integer_valued_numbers_item_by_item(client, admin_headers, organization_id):
    good = {
        **ANSWERS,
        "organization_id": organization_id,
        "questionnaire": {"id": "hospital-social-media", "version": 1.0},
        "answers": _answers("pr_posts_per_week", 12.0),
    }
    fractional = {**good, "questionnaire": {"id": "hospital-social-media", "version": 1.5}}

    response = client.post(
        "/v1/assessments/batch", json={"assessments": [good, fractional]}, headers=admin_headers
    )

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["created", "error"]
    assert [e["field"] for e in items[1]["errors"]] == ["assessments[1].questionnaire.version"]


def test_roadmap_settings_take_integer_valued_levels_and_budgets(
    client, admin_headers, organization_id
):
    response = client.put(
        f"/v1/organizations/{organization_id}/roadmap-settings",
        json={"targets": {"security": 4.0}, "budget": 25000.0},
        headers=admin_headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["targets"] == {"security": 4}
    assert response.json()["budget"] == 25000


# FHIR: integer items take valueInteger (12.0 is the JSON number 12) or an integral
# valueDecimal; a fractional one is refused, naming the item.


def _fhir(organization_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "examples" / "fhir" / "community-hospital.json").read_text()
    )
    resource["subject"] = {"reference": f"Organization/{organization_id}"}
    for group in resource["item"]:
        for item in group["item"]:
            if item["linkId"] == "pr_posts_per_week":
                item["answer"] = [answer]
    return resource


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"valueInteger": 12.0}, 201),
        ({"valueDecimal": 12.0}, 201),
        ({"valueDecimal": 12.5}, 422),
        ({"valueInteger": 12.5}, 400),
    ],
    ids=["valueInteger 12.0", "valueDecimal 12.0", "valueDecimal 12.5", "valueInteger 12.5"],
)
def test_fhir_integer_items_take_integral_numbers_only(
    client, admin_headers, organization_id, answer, status
):
    response = client.post(
        "/fhir/r4/QuestionnaireResponse",
        content=json.dumps(_fhir(organization_id, answer)),
        headers={**admin_headers, "Content-Type": FHIR_JSON},
    )

    assert response.status_code == status, response.text
    if status == 201:
        (link,) = response.json()["extension"]
        stored = client.get(link["valueUrl"], headers=admin_headers).json()
        assert _answer(stored, "pr_posts_per_week") == 12
    else:  # named by linkId, or (not valid FHIR at all) by the element's path
        (issue,) = response.json()["issue"]
        named = " ".join(issue["expression"])
        assert "pr_posts_per_week" in named or named.endswith(".answer[0].valueInteger"), issue


@pytest.fixture
def organization_id(make_organization) -> str:
    return str(make_organization().id)
