"""The answer files in examples/ are accepted and scored by the doors users post them to.

People copy these files to start their own submissions and the README walks through them,
so each must pass the same intake as a real submission: the native ones through the REST
API, the FHIR ones through the FHIR QuestionnaireResponse endpoint.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.organizations.models import Organization
from tests.conftest import EXAMPLES

NATIVE = sorted(EXAMPLES.glob("*.json"))
FHIR = sorted((EXAMPLES / "fhir").glob("*.json"))
V2 = [path for path in NATIVE if path.name.startswith("v2-")]
FHIR_ORGANIZATION = "0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def levels(payload: dict[str, Any]) -> dict[str, int]:
    return {d["dimension_id"]: d["level"] for d in payload["scores"]["dimensions"]}


def submit(client, headers, organization: Organization, path: Path) -> dict[str, Any]:
    response = client.post(
        "/v1/assessments",
        json={"organization_id": str(organization.id), **load(path)},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_examples_folder_has_version_2_files_for_three_sizes_of_hospital():
    assert {path.name for path in V2} == {
        "v2-critical-access-hospital.json",
        "v2-community-hospital.json",
        "v2-academic-medical-center.json",
    }


@pytest.mark.parametrize("path", NATIVE, ids=lambda path: path.stem)
def test_each_native_example_is_a_complete_submission_without_identifier_warnings(
    client, admin_headers, make_organization, path
):
    payload = submit(client, admin_headers, make_organization(), path)

    assert payload["status"] == "submitted"
    assert payload["questionnaire"] == load(path)["questionnaire"]
    assert payload["scores"]["complete"] is True
    assert set(levels(payload)) == {"presence", "consistency", "security"}
    assert payload["warnings"] == []


@pytest.mark.parametrize("path", V2, ids=lambda path: path.stem)
def test_each_version_2_example_pins_version_2_and_answers_every_question_shown(
    client, admin_headers, make_organization, path
):
    document = load(path)
    assert document["questionnaire"] == {"id": "hospital-social-media", "version": 2}

    payload = submit(client, admin_headers, make_organization(), path)

    assert payload["questionnaire"]["version"] == 2
    assert payload["scores"]["complete"] is True
    assert payload["scores"]["overall_level"] >= 1


def test_the_version_2_examples_rank_from_critical_access_to_academic_center(
    client, admin_headers, make_organization
):
    scored = {
        name: levels(submit(client, admin_headers, make_organization(), EXAMPLES / name))
        for name in (
            "v2-critical-access-hospital.json",
            "v2-community-hospital.json",
            "v2-academic-medical-center.json",
        )
    }
    small = scored["v2-critical-access-hospital.json"]
    community = scored["v2-community-hospital.json"]
    academic = scored["v2-academic-medical-center.json"]

    # Shared passwords and a page on a personal address keep security at the bottom.
    assert small["security"] == 1
    for dimension in ("presence", "consistency", "security"):
        assert small[dimension] <= community[dimension] <= academic[dimension]
    assert academic["security"] >= 3


@pytest.mark.parametrize("path", FHIR, ids=lambda path: path.stem)
def test_each_fhir_example_is_accepted_as_a_completed_questionnaire_response(
    client, admin_headers, db, path
):
    db.add(
        Organization(
            id=uuid.UUID(FHIR_ORGANIZATION),
            name="Example Medical Center",
            type="academic_medical_center",
            licensed_beds=800,
            state="MN",
        )
    )
    db.commit()

    response = client.post(
        "/fhir/r4/QuestionnaireResponse",
        content=path.read_bytes(),
        headers={**admin_headers, "Content-Type": "application/fhir+json"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "completed"
