"""Strings that are not text (a lone surrogate, NUL, other control characters) at every door.

Each is refused with a 4xx naming where it is, on SQLite and PostgreSQL alike, and
nothing is stored; tab, line feed and carriage return stay ordinary text.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.config import PROJECT_ROOT
from app.intake.models import Assessment
from app.organizations.models import Organization
from app.text import TEXT_PATTERN, text_problem
from tests.conftest import example

V1 = {"id": "hospital-social-media", "version": 1}
ANSWERS = {**example("community-hospital"), "questionnaire": V1}
ORGANIZATION = {
    "name": "Lakeside",
    "type": "community_hospital",
    "licensed_beds": 60,
    "state": "MN",
}
NOT_TEXT = {"lone surrogate": "\ud800", "NUL": "\x00", "escape": "\x1b", "bell": "\x07"}


def _send(client, method: str, url: str, body: Any, headers: dict[str, str]):
    # json.dumps escapes a lone surrogate as \ud800, as a JavaScript client would send it.
    return client.request(
        method,
        url,
        content=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


def _position(question_id: str) -> int:
    return next(i for i, a in enumerate(ANSWERS["answers"]) if a["question_id"] == question_id)


def _answers(which: str, **changes: Any) -> list[dict[str, Any]]:
    answers = [dict(a) for a in ANSWERS["answers"]]
    answers[_position(which)].update(changes)
    return answers


def _counts(db) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(Organization)) or 0,
        db.scalar(select(func.count()).select_from(Assessment)) or 0,
        sum(len(a.answers) for a in db.scalars(select(Assessment))),
    )


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# Where a bad string goes in each request body: (method, url, body, field named).
def _body_cases(org: str, draft: str, bad: str) -> dict[str, tuple[str, str, Any, str]]:
    text = f"before{bad}after"
    pr = _position("pr_platforms")
    se = _position("se_incidents_description")
    return {
        "organization name": ("POST", "/v1/organizations", {**ORGANIZATION, "name": text}, "name"),
        "organization state": (
            "POST",
            "/v1/organizations",
            {**ORGANIZATION, "state": bad},
            "state",
        ),
        "new organization name": ("PATCH", f"/v1/organizations/{org}", {"name": text}, "name"),
        "text answer": (
            "POST",
            "/v1/assessments",
            {
                **ANSWERS,
                "organization_id": org,
                "answers": _answers("se_incidents_description", value=text),
            },
            f"answers[{se}].value",
        ),
        "answer in a list": (
            "POST",
            "/v1/assessments",
            {**ANSWERS, "organization_id": org, "answers": _answers("pr_platforms", value=[text])},
            f"answers[{pr}].value",
        ),
        "question id": (
            "POST",
            "/v1/assessments",
            {
                **ANSWERS,
                "organization_id": org,
                "answers": _answers("pr_platforms", question_id=text),
            },
            f"answers[{pr}].question_id",
        ),
        "comment": (
            "POST",
            "/v1/assessments",
            {**ANSWERS, "organization_id": org, "answers": _answers("pr_platforms", comment=text)},
            f"answers[{pr}].comment",
        ),
        "questionnaire id": (
            "POST",
            "/v1/assessments",
            {**ANSWERS, "organization_id": org, "questionnaire": {"id": text, "version": 1}},
            "questionnaire.id",
        ),
        "draft answer": (
            "PATCH",
            f"/v1/assessments/{draft}",
            {"answers": [{"question_id": "se_incidents_description", "value": text}]},
            "answers[0].value",
        ),
        "roadmap notes": (
            "PUT",
            f"/v1/organizations/{org}/roadmap-settings",
            {"notes": text},
            "notes",
        ),
        "roadmap target key": (
            "PUT",
            f"/v1/organizations/{org}/roadmap-settings",
            {"targets": {text: 3}},
            "targets",
        ),
        "excluded service": (
            "PUT",
            f"/v1/organizations/{org}/roadmap-settings",
            {"excluded_services": [text]},
            "excluded_services[0]",
        ),
        "invitation questionnaire": (
            "POST",
            f"/v1/organizations/{org}/invitations",
            {"questionnaire": {"id": text}},
            "questionnaire.id",
        ),
    }


CASE_NAMES = list(_body_cases("o", "d", "x"))


@pytest.fixture
def draft(client, admin_headers, make_organization) -> tuple[str, str]:
    """An organization and a draft assessment of it."""
    organization = str(make_organization().id)
    body = {**ANSWERS, "organization_id": organization, "status": "draft"}
    response = client.post("/v1/assessments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return organization, response.json()["id"]


@pytest.mark.parametrize("bad", NOT_TEXT.values(), ids=NOT_TEXT.keys())
@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_string_that_is_not_text_is_refused_naming_its_field_and_nothing_is_stored(
    client, db, admin_headers, draft, case, bad
):
    method, url, body, field = _body_cases(*draft, bad)[case]
    before = _counts(db)
    stored_draft = client.get(f"/v1/assessments/{draft[1]}", headers=admin_headers).json()

    response = _send(client, method, url, body, admin_headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert any(f.startswith(field) for f in _fields(response)), response.text
    assert _counts(db) == before
    assert client.get(f"/v1/assessments/{draft[1]}", headers=admin_headers).json() == stored_draft


@pytest.mark.parametrize("bad", NOT_TEXT.values(), ids=NOT_TEXT.keys())
def test_a_batch_item_with_a_string_that_is_not_text_is_refused_and_the_others_stored(
    client, db, admin_headers, make_organization, bad
):
    organization = str(make_organization().id)
    good = {**ANSWERS, "organization_id": organization}
    broken = {**good, "answers": [{**ANSWERS["answers"][0], "question_id": f"pr{bad}"}]}
    before = _counts(db)

    response = _send(
        client,
        "POST",
        "/v1/assessments/batch",
        {"assessments": [good, good, broken]},
        admin_headers,
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert [i["status"] for i in result["items"]] == ["created", "created", "error"]
    refused = result["items"][2]
    assert refused["error"] == "invalid_request"
    assert [e["field"] for e in refused["errors"]] == ["assessments[2].answers[0].question_id"]
    assert all(text_problem(e["question_id"] or "") is None for e in refused["errors"])
    assert _counts(db)[1] == before[1] + 2


def test_a_batch_whose_every_item_is_not_text_stores_nothing(
    client, db, admin_headers, make_organization
):
    organization = str(make_organization().id)
    items = [
        {**ANSWERS, "organization_id": organization, "answers": _answers("pr_platforms", comment=c)}
        for c in NOT_TEXT.values()
    ]
    before = _counts(db)

    response = _send(client, "POST", "/v1/assessments/batch", {"assessments": items}, admin_headers)

    assert response.json()["created"] == 0, response.text
    pr = _position("pr_platforms")
    assert [e["field"] for i in response.json()["items"] for e in i["errors"]] == [
        f"assessments[{n}].answers[{pr}].comment" for n in range(len(items))
    ]
    assert _counts(db) == before


@pytest.mark.parametrize("bad", ["\x00", "\x1b"], ids=["NUL", "escape"])
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/audit?action={}", "action"),
        ("/v1/exports/assessments.csv?questionnaire={}", "questionnaire"),
        ("/v1/assessments/{assessment}/roadmap?exclude={}", "exclude"),
        ("/v1/assessments/{assessment}/roadmap?target=security%3D4{}", "target"),
    ],
)
def test_a_query_parameter_that_is_not_text_is_refused_naming_it(
    client, admin_headers, draft, url, field, bad
):
    quoted = "%" + f"{ord(bad):02X}"
    response = client.get(url.format(quoted, assessment=draft[1]), headers=admin_headers)

    assert response.status_code == 422, response.text
    assert _fields(response) == [field]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/questionnaires/hospital-social-media%00",
        "/v1/organizations/%00",
        "/v1/assessments/{assessment}%1b",
        "/fhir/r4/Questionnaire/hospital-social-media%00",
    ],
)
def test_a_path_parameter_that_is_not_text_names_nothing(client, admin_headers, draft, url):
    response = client.get(url.format(assessment=draft[1]), headers=admin_headers)

    assert response.status_code == 404, response.text


@pytest.mark.parametrize("kept", ["\t", "\n", "\r\n"], ids=["tab", "line feed", "CRLF"])
def test_tabs_and_line_breaks_are_ordinary_text(client, admin_headers, make_organization, kept):
    organization = str(make_organization().id)
    text = f"First line{kept}second line"
    body = {
        **ANSWERS,
        "organization_id": organization,
        "answers": _answers("se_incidents_description", value=text),
    }

    response = _send(client, "POST", "/v1/assessments", body, admin_headers)

    assert response.status_code == 201, response.text
    (answer,) = [
        a for a in response.json()["answers"] if a["question_id"] == "se_incidents_description"
    ]
    assert answer["value"] == text


# -- the rule itself ------------------------------------------------------------------------


@given(st.text(st.characters(codec=None, exclude_categories=())))
def test_the_description_pattern_refuses_what_the_check_refuses(value):
    # Surrogates aside (no JSON Schema regex sees one), the two agree on every string.
    if any("\ud800" <= c <= "\udfff" for c in value):
        assert text_problem(value) is not None
    else:
        assert (re.fullmatch(TEXT_PATTERN, value) is None) == (text_problem(value) is not None)


def _strings_of(schema: dict[str, Any], components: dict[str, Any], seen: set[str]):
    """Every string schema in ``schema`` (refs followed once), with where it is."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from _strings_of(components[name], components, seen)
        return
    if schema.get("type") == "string":
        yield schema
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for child in schema.get(key, []):
            yield from _strings_of(child, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _strings_of(schema[key], components, seen)
    for child in schema.get("properties", {}).values():
        yield from _strings_of(child, components, seen)


def test_every_string_a_request_may_carry_is_described_as_text(client):
    description = client.app.openapi()
    components = description["components"]["schemas"]
    loose = []
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            parameters = [
                description["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
                if "$ref" in p
                else p
                for p in operation.get("parameters", [])
            ]
            # Header values cannot carry NUL or other controls: HTTP itself refuses them.
            schemas = [p["schema"] for p in parameters if p["in"] != "header"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schemas.append(body["schema"])
            for schema in schemas:
                for string in _strings_of(schema, components, set()):
                    if "enum" in string or "const" in string or "format" in string:
                        continue
                    pattern = string.get("pattern")
                    if pattern is None or any(re.search(pattern, c) for c in ("\x00", "\x01")):
                        loose.append(f"{method.upper()} {path}: {string}")
    assert not loose, "\n".join(loose)


# -- the same answer on both databases, whatever the string -----------------------------------


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.text(st.characters(codec=None, exclude_categories=()), max_size=20),
)
def test_any_string_as_an_answer_is_stored_intact_or_refused_with_a_422(
    client, db, admin_headers, make_organization, value
):
    organization = str(make_organization(f"Hospital {uuid.uuid4()}").id)
    body = {
        **ANSWERS,
        "organization_id": organization,
        "answers": _answers("se_incidents_description", value=f"x{value}", comment=value),
    }

    response = _send(client, "POST", "/v1/assessments", body, admin_headers)

    if text_problem(value) is None:
        assert response.status_code == 201, response.text
        url = f"/v1/assessments/{response.json()['id']}"
        stored = client.get(url, headers=admin_headers).json()
        (answer,) = [a for a in stored["answers"] if a["question_id"] == "se_incidents_description"]
        assert answer["value"].strip() == f"x{value}".strip()
    else:
        assert response.status_code == 422, response.text
        assert _fields(response), response.text


# -- FHIR: the same strings in a QuestionnaireResponse -----------------------------------------

FHIR_JSON = "application/fhir+json"


def _fhir_response(organization_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "examples" / "fhir" / "community-hospital.json").read_text()
    )
    resource["subject"] = {"reference": f"Organization/{organization_id}"}
    return resource


def _fhir_item(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for g in resource["item"] for i in g["item"] if i["linkId"] == link_id)


def _set_text(item: dict[str, Any], bad: str) -> None:
    item["answer"] = [{"valueString": f"a{bad}b"}]


def _set_link_id(item: dict[str, Any], bad: str) -> None:
    item["linkId"] = f"se{bad}"


def _set_code(item: dict[str, Any], bad: str) -> None:
    item["answer"][0]["valueCoding"]["code"] = f"facebook{bad}"


@pytest.mark.parametrize("bad", NOT_TEXT.values(), ids=NOT_TEXT.keys())
@pytest.mark.parametrize(
    ("link_id", "change", "where"),
    [
        ("se_anything_else", _set_text, "answer[0].valueString"),
        ("se_anything_else", _set_link_id, "linkId"),
        ("pr_platforms", _set_code, "answer[0].valueCoding.code"),
    ],
    ids=["text answer", "linkId", "option code"],
)
def test_a_questionnaire_response_string_that_is_not_text_is_an_outcome_naming_it(
    client, db, admin_headers, make_organization, link_id, change, where, bad
):
    resource = _fhir_response(str(make_organization().id))
    change(_fhir_item(resource, link_id), bad)
    before = _counts(db)

    response = client.post(
        "/fhir/r4/QuestionnaireResponse",
        content=json.dumps(resource).encode(),
        headers={**admin_headers, "Content-Type": FHIR_JSON},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == FHIR_JSON
    (issue,) = response.json()["issue"]
    assert issue["expression"][0].startswith("QuestionnaireResponse.item[")
    assert issue["expression"][0].endswith(where)
    if change is not _set_link_id:
        assert issue["expression"][1] == (
            f"QuestionnaireResponse.repeat(item).where(linkId='{link_id}')"
        )
    assert _counts(db) == before
