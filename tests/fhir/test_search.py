"""FHIR search, the CapabilityStatement, versioned reads, formats and errors, as clients see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.fhir import search, terms
from app.intake.models import Assessment
from tests.conftest import bearer, example
from tests.fhir.resources import EXPORTED_V1, questionnaire_response

BASE = "/fhir/r4"
FHIR_JSON = "application/fhir+json"
QUESTIONNAIRE_URL = terms.questionnaire_url("hospital-social-media")
V1 = {"id": "hospital-social-media", "version": 1}


def _bundle(response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    Bundle.model_validate(body)
    assert body["type"] == "searchset"
    return body


def _outcome(response, status_code: int) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    OperationOutcome.model_validate(body)
    return body


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == relation), None)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _assess(client, headers, organization_id, status: str = "submitted") -> str:
    body = {
        **example("community-hospital"),
        "questionnaire": V1,
        "organization_id": str(organization_id),
        "status": status,
    }
    if status == "draft":
        body["answers"] = body["answers"][:3]
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
def two_hospitals(client, make_key, make_organization):
    """Two organizations, each with two assessments, and a partner key for each."""
    admin = bearer(make_key("admin"))
    north = make_organization("North Hospital")
    south = make_organization("South Hospital")
    assessments = {
        "north": [_assess(client, admin, north.id), _assess(client, admin, north.id, "draft")],
        "south": [_assess(client, admin, south.id), _assess(client, admin, south.id)],
    }
    return {
        "admin": admin,
        "north": north,
        "south": south,
        "assessments": assessments,
        "north key": bearer(make_key("partner", [north.id])),
        "south key": bearer(make_key("partner", [south.id])),
    }


# -- the CapabilityStatement ---------------------------------------------------------------


def test_the_capability_statement_is_valid_r4_and_states_what_is_supported(client):
    response = client.get(f"{BASE}/metadata")

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    statement = response.json()
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert statement["format"] == ["json", FHIR_JSON, "application/json"]
    assert statement["implementation"]["url"] == "http://testserver/fhir/r4"
    (rest,) = statement["rest"]
    assert "Prefer: handling=strict" in rest["documentation"]
    assert "406" in rest["documentation"]
    resources = {r["type"]: r for r in rest["resource"]}
    assert set(resources) == {"Questionnaire", "QuestionnaireResponse"}
    interactions = {t: {i["code"] for i in r["interaction"]} for t, r in resources.items()}
    assert interactions == {
        "Questionnaire": {"read", "vread", "search-type"},
        "QuestionnaireResponse": {"read", "search-type", "create"},
    }
    parameters = {t: {p["name"]: p["type"] for p in r["searchParam"]} for t, r in resources.items()}
    assert parameters == {
        "Questionnaire": {"url": "uri", "version": "token", "_id": "token"},
        "QuestionnaireResponse": {
            "subject": "reference",
            "questionnaire": "reference",
            "authored": "date",
            "_id": "token",
        },
    }


def test_every_stated_interaction_is_answered_and_nothing_more_is_routed(app):
    statement_paths = {
        f"{BASE}/metadata",
        f"{BASE}/Questionnaire",
        f"{BASE}/Questionnaire/{{questionnaire_id}}",
        f"{BASE}/Questionnaire/{{questionnaire_id}}/_history/{{version}}",
        f"{BASE}/QuestionnaireResponse",
        f"{BASE}/QuestionnaireResponse/{{assessment_id}}",
    }

    routed = {path for path in app.openapi()["paths"] if path.startswith(BASE)}

    assert routed == statement_paths


# -- Questionnaire search --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", 1),
        (f"url={QUESTIONNAIRE_URL}", 1),
        (f"url={QUESTIONNAIRE_URL}&version=1", 1),
        ("_id=hospital-social-media", 1),
        ("_id=hospital-social-media,other", 1),
        ("version=1", 1),
        ("url=https://example.org/Questionnaire/hospital-social-media", 0),
        ("version=999", 0),
        ("_id=other", 0),
        ("_id=hospital-social-media&_id=other", 0),
    ],
)
def test_questionnaires_are_found_by_url_version_and_id(client, make_key, registry, query, found):
    bundle = _bundle(
        client.get(f"{BASE}/Questionnaire?{query}", headers=bearer(make_key("partner")))
    )

    # Without a version, the latest version of each questionnaire is found.
    latest = registry.get("hospital-social-media").definition.version
    version = "1" if "version=" in query else str(latest)
    assert bundle["total"] == len(_ids(bundle))
    hits = [e["resource"] for e in bundle.get("entry", []) if e["resource"]["version"] == version]
    assert len(hits) == found
    assert len(bundle.get("entry", [])) == found
    for entry in bundle.get("entry", []):
        assert (
            entry["fullUrl"] == f"http://testserver{BASE}/Questionnaire/{entry['resource']['id']}"
        )
        assert entry["search"] == {"mode": "match"}
        assert entry["resource"]["meta"]["lastUpdated"]


def test_a_questionnaire_version_found_by_search_is_the_one_read_by_vread(client, admin_headers):
    bundle = _bundle(
        client.get(f"{BASE}/Questionnaire?url={QUESTIONNAIRE_URL}&version=1", headers=admin_headers)
    )
    read = client.get(
        f"{BASE}/Questionnaire/hospital-social-media/_history/1", headers=admin_headers
    )

    (entry,) = bundle["entry"]
    assert entry["resource"] == read.json()
    assert {k: v for k, v in entry["resource"].items() if k != "meta"} == {
        k: v for k, v in EXPORTED_V1.items() if k != "meta"
    }


def test_searching_questionnaires_needs_a_key(client):
    outcome = _outcome(client.get(f"{BASE}/Questionnaire"), 401)

    assert outcome["issue"][0]["code"] == "login"


# -- QuestionnaireResponse search: scope --------------------------------------------------------


def test_each_key_finds_exactly_its_own_organizations_responses(client, two_hospitals):
    world = two_hospitals

    north = _bundle(client.get(f"{BASE}/QuestionnaireResponse", headers=world["north key"]))
    south = _bundle(client.get(f"{BASE}/QuestionnaireResponse", headers=world["south key"]))
    everything = _bundle(client.get(f"{BASE}/QuestionnaireResponse", headers=world["admin"]))

    assert sorted(_ids(north)) == sorted(world["assessments"]["north"])
    assert north["total"] == 2
    assert sorted(_ids(south)) == sorted(world["assessments"]["south"])
    assert set(_ids(north)) | set(_ids(south)) <= set(_ids(everything))
    for entry in north["entry"]:
        assert entry["resource"]["subject"] == {"reference": f"Organization/{world['north'].id}"}
        QuestionnaireResponse.model_validate(entry["resource"])


@pytest.mark.parametrize(
    "subject",
    ["Organization/{id}", "{id}", "http://testserver/fhir/r4/Organization/{id}"],
)
def test_a_subject_out_of_scope_gives_an_empty_bundle_like_a_missing_one(
    client, two_hospitals, subject
):
    world = two_hospitals
    foreign = subject.format(id=world["south"].id)
    missing = subject.format(id=uuid.uuid4())

    seen_foreign = _bundle(
        client.get(
            f"{BASE}/QuestionnaireResponse", params={"subject": foreign}, headers=world["north key"]
        )
    )
    seen_missing = _bundle(
        client.get(
            f"{BASE}/QuestionnaireResponse", params={"subject": missing}, headers=world["north key"]
        )
    )
    own = _bundle(
        client.get(
            f"{BASE}/QuestionnaireResponse",
            params={"subject": subject.format(id=world["north"].id)},
            headers=world["north key"],
        )
    )

    assert seen_foreign["total"] == seen_missing["total"] == 0
    assert "entry" not in seen_foreign
    assert sorted(_ids(own)) == sorted(world["assessments"]["north"])


def test_a_foreign_response_is_not_found_by_its_id_either(client, two_hospitals):
    world = two_hospitals
    foreign = world["assessments"]["south"][0]

    bundle = _bundle(
        client.get(f"{BASE}/QuestionnaireResponse?_id={foreign}", headers=world["north key"])
    )
    mixed = _bundle(
        client.get(
            f"{BASE}/QuestionnaireResponse?_id={foreign},{world['assessments']['north'][0]}",
            headers=world["north key"],
        )
    )

    assert bundle["total"] == 0
    assert _ids(mixed) == [world["assessments"]["north"][0]]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(["north key", "south key"]),
    parameters=st.lists(
        st.sampled_from(["subject", "questionnaire", "_id", "authored", "_count", "_offset", "x"]),
        max_size=4,
    ),
    values=st.lists(st.text(max_size=40), min_size=4, max_size=4),
)
def test_no_search_ever_returns_a_response_of_an_organization_out_of_scope(
    client, two_hospitals, key, parameters, values
):
    world = two_hospitals
    own = world["north" if key == "north key" else "south"].id
    choices = [*values, f"Organization/{world['north'].id}", f"Organization/{world['south'].id}"]
    query = [(name, choices[i % len(choices)]) for i, name in enumerate(parameters)]

    response = client.get(f"{BASE}/QuestionnaireResponse", params=query, headers=world[key])

    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        for entry in response.json().get("entry", []):
            assert entry["resource"]["subject"]["reference"] == f"Organization/{own}"


# -- QuestionnaireResponse search: filters --------------------------------------------------------


def test_responses_are_found_by_questionnaire_with_or_without_version(client, two_hospitals):
    world = two_hospitals
    url = f"{BASE}/QuestionnaireResponse"

    by_url = _bundle(
        client.get(url, params={"questionnaire": QUESTIONNAIRE_URL}, headers=world["north key"])
    )
    by_version = _bundle(
        client.get(
            url, params={"questionnaire": f"{QUESTIONNAIRE_URL}|1"}, headers=world["north key"]
        )
    )
    other_version = _bundle(
        client.get(
            url, params={"questionnaire": f"{QUESTIONNAIRE_URL}|999"}, headers=world["north key"]
        )
    )
    other = _bundle(
        client.get(
            url,
            params={"questionnaire": "https://example.org/Questionnaire/x"},
            headers=world["north key"],
        )
    )

    assert by_url["total"] == by_version["total"] == 2
    assert other_version["total"] == other["total"] == 0


def _set_authored(db, assessment_id: str, moment: datetime) -> None:
    assessment = db.get(Assessment, uuid.UUID(assessment_id))
    assessment.submitted_at = moment
    assessment.updated_at = moment
    db.commit()


@pytest.mark.parametrize(
    ("authored", "expected"),
    [
        (["2026-03-15"], {"march 15"}),
        (["eq2026-03"], {"march 15", "march 31"}),
        (["2026"], {"march 15", "march 31", "april 1"}),
        (["ge2026-03-31"], {"march 31", "april 1"}),
        (["gt2026-03-31"], {"april 1"}),
        (["le2026-03-31"], {"march 15", "march 31"}),
        (["lt2026-03-31"], {"march 15"}),
        (["ne2026-03-31"], {"march 15", "april 1"}),
        (["ge2026-03-01", "lt2026-04"], {"march 15", "march 31"}),
        (["gt2026-03-31T23:00:00Z"], {"march 31", "april 1"}),
        (["lt2026-04-01T01:31:00+02:00"], {"march 15", "march 31"}),
        (["2025"], set()),
    ],
)
def test_responses_are_found_by_when_they_were_authored(
    client, db, make_key, make_organization, authored, expected
):
    organization = make_organization("Dated Hospital")
    admin = bearer(make_key("admin"))
    moments = {
        "march 15": datetime(2026, 3, 15, 12, tzinfo=UTC),
        "march 31": datetime(2026, 3, 31, 23, 30, tzinfo=UTC),
        "april 1": datetime(2026, 4, 1, 0, 0, 0, 1, tzinfo=UTC),
    }
    ids = {}
    for name, moment in moments.items():
        ids[name] = _assess(client, admin, organization.id)
        _set_authored(db, ids[name], moment)
    query = [("subject", f"Organization/{organization.id}")] + [("authored", a) for a in authored]

    bundle = _bundle(client.get(f"{BASE}/QuestionnaireResponse", params=query, headers=admin))

    assert set(_ids(bundle)) == {ids[name] for name in expected}
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        assert (
            datetime.fromisoformat(resource["authored"])
            == moments[next(n for n, i in ids.items() if i == resource["id"])]
        )


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-02-30", "ap2026", "ge"])
def test_a_malformed_date_is_a_400_naming_authored(client, admin_headers, value):
    outcome = _outcome(
        client.get(
            f"{BASE}/QuestionnaireResponse", params={"authored": value}, headers=admin_headers
        ),
        400,
    )

    assert outcome["issue"][0]["expression"] == ["authored"]


# -- paging --------------------------------------------------------------------------------


def test_pages_follow_next_links_to_every_match_once_in_order(client, make_key, make_organization):
    organization = make_organization("Paged Hospital")
    admin = bearer(make_key("admin"))
    created = [_assess(client, admin, organization.id) for _ in range(5)]
    url = f"{BASE}/QuestionnaireResponse?subject=Organization/{organization.id}&_count=2&ignored=1"

    seen, pages = [], []
    while url:
        bundle = _bundle(client.get(url, headers=admin))
        assert bundle["total"] == 5
        pages.append(len(bundle.get("entry", [])))
        seen += _ids(bundle)
        next_url = _link(bundle, "next")
        url = _path(next_url) if next_url else None

    assert seen == created
    assert pages == [2, 2, 1]
    assert "ignored" not in _link(bundle, "self")  # an ignored parameter is not in self
    assert parse_qs(urlsplit(_link(bundle, "self")).query)["_offset"] == ["4"]
    assert parse_qs(urlsplit(_link(bundle, "previous")).query)["_offset"] == ["2"]
    assert "_offset" not in parse_qs(urlsplit(_link(bundle, "first")).query)


def test_count_zero_gives_the_total_alone(client, two_hospitals):
    bundle = _bundle(
        client.get(f"{BASE}/QuestionnaireResponse?_count=0", headers=two_hospitals["north key"])
    )

    assert bundle["total"] == 2
    assert "entry" not in bundle


def test_a_page_is_never_larger_than_the_maximum(client, make_key, make_organization):
    organization = make_organization()
    admin = bearer(make_key("admin"))
    for _ in range(3):
        _assess(client, admin, organization.id, "draft")

    bundle = _bundle(client.get(f"{BASE}/QuestionnaireResponse?_count=100000", headers=admin))

    assert len(bundle["entry"]) <= search.MAX_COUNT
    assert parse_qs(urlsplit(_link(bundle, "self")).query)["_count"] == [str(search.MAX_COUNT)]


@pytest.mark.parametrize("query", ["_count=-1", "_count=ten", "_offset=-5", "_offset=99999999"])
def test_malformed_paging_is_a_400_naming_the_parameter(client, admin_headers, query):
    outcome = _outcome(
        client.get(f"{BASE}/QuestionnaireResponse?{query}", headers=admin_headers), 400
    )

    assert outcome["issue"][0]["expression"] == [query.partition("=")[0]]


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("QuestionnaireResponse", "subject=Organization/%00", "subject"),
        ("QuestionnaireResponse", "questionnaire=a%1Fb", "questionnaire"),
        ("Questionnaire", "url=a%01b", "url"),
    ],
)
def test_a_search_value_that_is_not_text_is_a_400_naming_the_parameter(
    client, admin_headers, path, query, named
):
    outcome = _outcome(client.get(f"{BASE}/{path}?{query}", headers=admin_headers), 400)

    assert outcome["issue"][0]["expression"] == [named]


def test_an_unknown_parameter_that_is_not_text_is_ignored_like_any_unknown_one(
    client, admin_headers
):
    response = client.get(f"{BASE}/Questionnaire?%01=%00", headers=admin_headers)

    assert response.status_code == 200
    assert "%00" not in response.json()["link"][0]["url"]


# -- unknown parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("prefer", ["handling=strict", "return=minimal, handling=strict"])
def test_unknown_search_parameters_are_refused_when_strict_handling_is_asked_for(
    client, admin_headers, prefer
):
    url = f"{BASE}/QuestionnaireResponse?status=completed&_sort=-authored&subject:missing=true"

    lenient = _bundle(client.get(url, headers=admin_headers))
    strict = _outcome(client.get(url, headers={**admin_headers, "Prefer": prefer}), 400)

    assert lenient["total"] >= 0
    assert [i["expression"] for i in strict["issue"]] == [
        ["status"],
        ["_sort"],
        ["subject:missing"],
    ]


# -- versioned reads -------------------------------------------------------------------------


def test_a_response_read_has_its_version_and_answers_304_until_it_changes(
    client, admin_headers, make_organization
):
    organization = make_organization()
    assessment_id = _assess(client, admin_headers, organization.id, "draft")
    url = f"{BASE}/QuestionnaireResponse/{assessment_id}"

    first = client.get(url, headers=admin_headers)
    meta = first.json()["meta"]
    unchanged = client.get(url, headers={**admin_headers, "If-None-Match": first.headers["ETag"]})
    submitted = client.patch(
        f"/v1/assessments/{assessment_id}",
        json={"answers": example("community-hospital")["answers"], "status": "submitted"},
        headers=admin_headers,
    )
    changed = client.get(url, headers={**admin_headers, "If-None-Match": first.headers["ETag"]})

    assert first.headers["ETag"] == f'W/"{meta["versionId"]}"'
    assert parsedate_to_datetime(first.headers["Last-Modified"]) <= datetime.fromisoformat(
        meta["lastUpdated"]
    )
    assert datetime.fromisoformat(meta["lastUpdated"]) - datetime.now(UTC) < timedelta(minutes=1)
    assert unchanged.status_code == 304
    assert submitted.status_code == 200, submitted.text
    assert changed.status_code == 200
    assert changed.json()["status"] == "completed"
    assert changed.json()["meta"]["versionId"] != meta["versionId"]
    assert changed.json()["meta"]["lastUpdated"] > meta["lastUpdated"]


def test_a_created_response_comes_with_its_version(client, admin_headers, make_organization):
    organization = make_organization()
    resource = questionnaire_response(
        EXPORTED_V1, str(organization.id), example("community-hospital")["answers"]
    )

    created = client.post(f"{BASE}/QuestionnaireResponse", json=resource, headers=admin_headers)
    read = client.get(created.headers["Location"], headers=admin_headers)

    assert created.status_code == 201, created.text
    assert created.json()["meta"] == read.json()["meta"]
    assert created.headers["ETag"] == read.headers["ETag"]


# -- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["json", "application/json", "application/fhir+json", "application/fhir json"]
)
def test_json_formats_are_honoured(client, admin_headers, value):
    response = client.get(
        f"{BASE}/Questionnaire/hospital-social-media",
        params={"_format": value},
        headers=admin_headers,
    )

    assert response.status_code == 200
    assert response.json()["resourceType"] == "Questionnaire"


@pytest.mark.parametrize("value", ["xml", "application/fhir+xml", "text/xml", "ttl"])
def test_other_formats_are_406_saying_only_json_is_supported(client, admin_headers, value):
    outcome = _outcome(
        client.get(f"{BASE}/metadata", params={"_format": value}, headers=admin_headers), 406
    )

    assert "only JSON" in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["_format"]


def test_an_accept_header_asking_only_for_xml_is_406(client):
    outcome = _outcome(
        client.get(f"{BASE}/metadata", headers={"Accept": "application/fhir+xml"}), 406
    )
    browser = client.get(
        f"{BASE}/metadata", headers={"Accept": "text/html,application/xml;q=0.9,*/*;q=0.8"}
    )

    assert outcome["issue"][0]["code"] == "not-supported"
    assert browser.status_code == 200


def test_a_body_declared_as_xml_is_415(client, admin_headers):
    outcome = _outcome(
        client.post(
            f"{BASE}/QuestionnaireResponse",
            content=b"<QuestionnaireResponse xmlns='http://hl7.org/fhir'/>",
            headers={**admin_headers, "Content-Type": "application/fhir+xml"},
        ),
        415,
    )

    assert outcome["issue"][0]["code"] == "not-supported"


# -- every error is an OperationOutcome ---------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/Patient", "/Patient/123", "/Questionnaire/hospital-social-media/_history", "/"]
)
def test_unknown_paths_and_resource_types_are_404_operation_outcomes(client, admin_headers, path):
    outcome = _outcome(client.get(f"{BASE}{path}", headers=admin_headers), 404)

    assert outcome["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/QuestionnaireResponse", "GET, POST"),
        ("PUT", "/Questionnaire/hospital-social-media", "GET"),
        ("POST", "/metadata", "GET"),
    ],
)
def test_a_method_a_path_does_not_have_is_a_405_operation_outcome(
    client, admin_headers, method, path, allowed
):
    response = client.request(method, f"{BASE}{path}", headers=admin_headers)

    outcome = _outcome(response, 405)
    assert outcome["issue"][0]["code"] == "not-supported"
    assert response.headers["Allow"] == allowed


def test_the_native_api_keeps_its_own_error_shape(client, admin_headers):
    response = client.get("/v1/no-such-thing", headers=admin_headers)

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}


def test_an_unexpected_failure_is_a_500_operation_outcome_with_the_request_id(
    client, admin_headers, monkeypatch
):
    def broken(*_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("app.api.fhir.search_responses", broken)
    response = client.get(f"{BASE}/QuestionnaireResponse", headers=admin_headers)

    outcome = _outcome(response, 500)
    assert outcome["issue"][0]["code"] == "exception"
    assert "database" not in response.text
    assert response.headers["X-Request-ID"]
