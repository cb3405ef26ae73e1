"""A FHIR client nobody on this project wrote (fhirpy) against `smm serve` on 127.0.0.1.

The server runs in its own process on a fresh database of each backend; the client finds
the capabilities, the questionnaire by search, posts responses, pages through searches,
and re-reads what changed, as a partner's integration would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.questionnaire import Questionnaire
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, OperationOutcome, ResourceNotFound

from app.fhir import terms
from tests.conftest import example
from tests.fhir.resources import questionnaire_response
from tests.support.cli import environment_without_settings, migrated_environment, run_smm
from tests.support.servers import running_server

QUESTIONNAIRE_URL = terms.questionnaire_url("hospital-social-media")


def _key(env: dict[str, str], role: str, *organizations: str) -> str:
    grants = [arg for organization in organizations for arg in ("--org", organization)]
    result = run_smm("keys", "create", "--role", role, *grants, env=env)
    return result.stdout.strip().splitlines()[-1]


class Partner:
    """A partner's FHIR client, with its key, for one organization."""

    def __init__(self, base: str, key: str, organization_id: str) -> None:
        self.fhir = SyncFHIRClient(f"{base}/fhir/r4", authorization=f"Bearer {key}")
        self.organization_id = organization_id


@pytest.fixture
def service(fresh_database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`smm serve` with two hospitals, an admin key, and one partner key for each hospital."""
    env = migrated_environment(
        environment_without_settings()
        | {"SMM_DATABASE_URL": fresh_database_url, "SMM_RUN_REPORT_JOBS": "false"}
    )
    admin = _key(env, "admin")
    with (
        running_server(env, tmp_path / "serve.log") as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=60
        ) as native,
    ):
        organizations = {}
        for name in ("north", "south"):
            created = native.post(
                "/v1/organizations",
                json={
                    "name": f"{name.title()} Hospital",
                    "type": "community_hospital",
                    "licensed_beds": 120,
                    "state": "MN",
                },
            )
            assert created.status_code == 201, created.text
            organizations[name] = created.json()["id"]
        partners = {
            name: Partner(base, _key(env, "partner", organization), organization)
            for name, organization in organizations.items()
        }
        yield {"base": base, "native": native, "partners": partners, "env": env}


def _post(partner: Partner, questionnaire: Any, answers: list[dict[str, Any]], status: str) -> Any:
    """A QuestionnaireResponse built from the fetched Questionnaire, saved through fhirpy."""
    body = questionnaire_response(dict(questionnaire), partner.organization_id, answers, status)
    resource = partner.fhir.resource("QuestionnaireResponse", **body)
    resource.save()
    return resource


def test_fhirpy_finds_posts_pages_reads_and_refreshes(service):
    north, south = service["partners"]["north"], service["partners"]["south"]

    # The capability fetch every generic client starts with.
    statement = north.fhir.execute("metadata", method="get")
    CapabilityStatement.model_validate(dict(statement))
    searchable = {
        r["type"]: {p["name"] for p in r["searchParam"]} for r in statement["rest"][0]["resource"]
    }
    assert searchable["QuestionnaireResponse"] >= {"subject", "questionnaire", "authored", "_id"}

    # The questionnaire, found by its canonical URL and version.
    questionnaire = (
        north.fhir.resources("Questionnaire").search(url=QUESTIONNAIRE_URL, version="1").get()
    )
    Questionnaire.model_validate(questionnaire.serialize())
    assert questionnaire["meta"]["versionId"] == "1"

    # Responses posted by each partner for its own hospital.
    answers = example("community-hospital")["answers"]
    posted_north = [
        _post(north, questionnaire, answers, "submitted"),
        _post(north, questionnaire, answers[:4], "draft"),
        _post(north, questionnaire, answers, "submitted"),
    ]
    posted_south = [_post(south, questionnaire, answers, "submitted") for _ in range(2)]
    for resource in posted_north + posted_south:
        assert resource.id
        assert resource["meta"]["versionId"]

    # Scored exactly as the same answers posted as native JSON.
    native = service["native"].post(
        "/v1/assessments",
        json={
            "organization_id": north.organization_id,
            "questionnaire": {"id": "hospital-social-media", "version": 1},
            "status": "submitted",
            "answers": answers,
        },
    )
    via_fhir = service["native"].get(f"/v1/assessments/{posted_north[0].id}")
    assert via_fhir.json()["scores"] == native.json()["scores"]

    # Search with paging: fhirpy follows the next links to every match.
    mine = north.fhir.resources("QuestionnaireResponse").search(
        subject=f"Organization/{north.organization_id}"
    )
    found = mine.limit(2).fetch_all()
    assert [r.id for r in found] == [r.id for r in posted_north] + [_native_id(native)]
    assert mine.count() == 4
    first_page = service["native"].get(
        f"{service['base']}/fhir/r4/QuestionnaireResponse",
        params={"subject": f"Organization/{north.organization_id}", "_count": 2},
    )
    Bundle.model_validate(first_page.json())
    assert {link["relation"] for link in first_page.json()["link"]} >= {"self", "next"}

    # Scope: each key sees its own hospital's responses, and nothing of the other's.
    everything_north_sees = north.fhir.resources("QuestionnaireResponse").fetch_all()
    assert {r["subject"]["reference"] for r in everything_north_sees} == {
        f"Organization/{north.organization_id}"
    }
    peek = south.fhir.resources("QuestionnaireResponse").search(
        subject=f"Organization/{north.organization_id}"
    )
    assert peek.fetch_all() == []
    assert peek.count() == 0
    assert south.fhir.resources("QuestionnaireResponse").search(_id=posted_north[0].id).count() == 0
    with pytest.raises(ResourceNotFound):
        south.fhir.reference("QuestionnaireResponse", posted_north[0].id).to_resource()
    assert len(south.fhir.resources("QuestionnaireResponse").fetch_all()) == 2

    # Read, refresh while unchanged (304), then refresh after the draft is submitted.
    draft = north.fhir.reference("QuestionnaireResponse", posted_north[1].id).to_resource()
    version = draft["meta"]["versionId"]
    draft.refresh()
    assert draft["meta"]["versionId"] == version
    assert draft["status"] == "in-progress"
    submitted = service["native"].patch(
        f"/v1/assessments/{draft.id}", json={"answers": answers, "status": "submitted"}
    )
    assert submitted.status_code == 200, submitted.text
    draft.refresh()
    assert draft["status"] == "completed"
    assert draft["meta"]["versionId"] != version


def _native_id(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_fhirpy_gets_operation_outcomes_for_xml_and_bad_keys(service):
    north = service["partners"]["north"]
    stranger = SyncFHIRClient(f"{service['base']}/fhir/r4", authorization="Bearer smm_x_y")

    with pytest.raises(OperationOutcome) as refused:
        north.fhir.execute("metadata", method="get", params={"_format": "xml"})
    with pytest.raises(AuthorizationError) as unauthenticated:
        stranger.resources("QuestionnaireResponse").fetch()

    assert "only JSON" in str(refused.value)
    assert "OperationOutcome" in str(unauthenticated.value)
