"""The OpenAPI document as tools read it: valid, linted, typed downloads, stable names.

The lint is the validator of openapi-spec-validator plus the rules of Spectral's "oas"
ruleset that apply to a generated document, each written out below, with zero warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from app.web.security import CONTENT_SECURITY_POLICY as FORM_POLICY

# Generated clients name their methods after these: a change here breaks their users.
OPERATION_IDS = {
    "GET /v1/questionnaires": "listQuestionnaires",
    "GET /v1/questionnaires/{questionnaire_id}": "getLatestQuestionnaire",
    "GET /v1/questionnaires/{questionnaire_id}/versions/{version}": "getQuestionnaireVersion",
    "POST /v1/organizations": "createOrganization",
    "GET /v1/organizations": "listOrganizations",
    "GET /v1/organizations/{organization_id}": "getOrganization",
    "PATCH /v1/organizations/{organization_id}": "updateOrganization",
    "POST /v1/assessments": "createAssessment",
    "GET /v1/assessments": "listAssessments",
    "POST /v1/assessments/batch": "createAssessmentBatch",
    "GET /v1/assessments/{assessment_id}": "getAssessment",
    "PATCH /v1/assessments/{assessment_id}": "updateAssessment",
    "POST /v1/assessments/{assessment_id}/submit": "submitAssessment",
    "GET /v1/organizations/{organization_id}/history": "getOrganizationHistory",
    "GET /v1/assessments/{assessment_id}/compare/{other_id}": "compareAssessments",
    "GET /v1/organizations/{organization_id}/roadmap-settings": "getRoadmapSettings",
    "PUT /v1/organizations/{organization_id}/roadmap-settings": "replaceRoadmapSettings",
    "GET /v1/organizations/{organization_id}/benchmarks": "getOrganizationBenchmarks",
    "GET /v1/assessments/{assessment_id}/roadmap": "getAssessmentRoadmap",
    "GET /v1/assessments/{assessment_id}/report.pdf": "getAssessmentReportPdf",
    "POST /v1/assessments/{assessment_id}/reports": "createReportJob",
    "GET /v1/reports/{job_id}": "getReportJob",
    "GET /v1/reports/{job_id}/pdf": "getReportJobPdf",
    "POST /v1/reports/batch": "createReportBatch",
    "GET /v1/reports": "listReportJobs",
    "GET /v1/exports/assessments.csv": "exportAssessmentsCsv",
    "GET /v1/exports/assessments.xlsx": "exportAssessmentsXlsx",
    "POST /v1/organizations/{organization_id}/invitations": "createInvitation",
    "GET /v1/invitations/{invitation_id}": "getInvitation",
    "DELETE /v1/invitations/{invitation_id}": "revokeInvitation",
    "GET /v1/portfolio": "getPortfolio",
    "GET /fhir/r4/metadata": "readCapabilityStatement",
    "GET /fhir/r4/Questionnaire": "searchQuestionnaires",
    "GET /fhir/r4/Questionnaire/{questionnaire_id}": "readQuestionnaire",
    "GET /fhir/r4/Questionnaire/{questionnaire_id}/_history/{version}": "vreadQuestionnaire",
    "POST /fhir/r4/QuestionnaireResponse": "createQuestionnaireResponse",
    "GET /fhir/r4/QuestionnaireResponse": "searchQuestionnaireResponses",
    "GET /fhir/r4/QuestionnaireResponse/{assessment_id}": "readQuestionnaireResponse",
    "GET /v1/audit": "listAuditEvents",
    "GET /healthz": "checkLiveness",
    "GET /readyz": "checkReadiness",
    "GET /metrics": "getMetrics",
}

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOWNLOADS = {
    "GET /v1/assessments/{assessment_id}/report.pdf": "application/pdf",
    "GET /v1/reports/{job_id}/pdf": "application/pdf",
    "GET /v1/exports/assessments.csv": "text/csv",
    "GET /v1/exports/assessments.xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}
BINARY = {"type": "string", "format": "binary"}
EXTERNAL_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def schemas_in(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every schema object under ``node`` (media types, parameters, headers, components)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema":
                yield f"{where}.schema", value
            yield from schemas_in(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schemas_in(value, f"{where}[{index}]")


def test_the_operation_ids_are_the_published_ones(document: dict[str, Any]) -> None:
    assert {name: op["operationId"] for name, op in operations(document)} == OPERATION_IDS


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises with the first problem it finds


def lint(document: dict[str, Any]) -> list[str]:
    """The warnings Spectral's oas ruleset would give, by rule name."""
    problems: list[str] = []
    info = document["info"]
    for field in ("description", "contact", "license"):
        if not info.get(field):
            problems.append(f"info-{field}: info has no {field}")
    if not info.get("license", {}).get("url"):
        problems.append("license-url: the license has no url")
    servers = document.get("servers") or []
    if not servers:
        problems.append("oas3-api-servers: no servers")
    for server in servers:
        if not server.get("url") or server["url"].endswith("/"):
            problems.append(f"oas3-server-trailing-slash: {server.get('url')!r}")
    tags = [tag["name"] for tag in document.get("tags", [])]
    if len(tags) != len(set(tags)):
        problems.append("openapi-tags-uniqueness: a tag is listed twice")
    for tag in document.get("tags", []):
        if not tag.get("description"):
            problems.append(f"tag-description: {tag['name']}")
    seen: dict[str, str] = {}
    for name, operation in operations(document):
        operation_id = operation.get("operationId")
        if not operation_id:
            problems.append(f"operation-operationId: {name}")
        elif operation_id in seen:
            problems.append(f"operation-operationId-unique: {name} and {seen[operation_id]}")
        else:
            seen[operation_id] = name
        if operation_id and not re.fullmatch(
            r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]+", operation_id
        ):
            problems.append(f"operation-operationId-valid-in-url: {name}")
        for field in ("summary", "description"):
            if not operation.get(field, "").strip():
                problems.append(f"operation-{field}: {name}")
        if not operation.get("tags"):
            problems.append(f"operation-tags: {name}")
        for tag in operation.get("tags", []):
            if tag not in tags:
                problems.append(f"operation-tag-defined: {name} uses {tag!r}")
        responses = operation.get("responses", {})
        if not any(code.startswith(("2", "3")) for code in responses):
            problems.append(f"operation-success-response: {name}")
        parameters = [resolve(document, p) for p in operation.get("parameters", [])]
        keys = [
            (p["in"], p["name"].lower() if p["in"] == "header" else p["name"]) for p in parameters
        ]
        if len(keys) != len(set(keys)):
            problems.append(f"operation-parameters: {name} repeats a parameter")
        path = name.split(" ", 1)[1]
        declared = {p["name"] for p in parameters if p["in"] == "path"}
        if declared != set(re.findall(r"\{([^}]+)\}", path)):
            problems.append(f"path-params: {name}")
        for code, response in responses.items():
            for media_type, content in resolve(document, response).get("content", {}).items():
                if not content.get("schema"):
                    problems.append(f"empty schema: {name} {code} {media_type}")
        body = operation.get("requestBody")
        if body is not None:
            for media_type, content in resolve(document, body).get("content", {}).items():
                if not content.get("schema"):
                    problems.append(f"empty schema: {name} request {media_type}")
    for where, schema in schemas_in(document):
        problems += _schema_problems(where, schema)
    for where, schema in document.get("components", {}).get("schemas", {}).items():
        problems += _schema_problems(f"components.schemas.{where}", schema)
    text = str(document)
    required = {
        name for _, op in operations(document) for r in op.get("security", []) for name in r
    }
    for name in document.get("components", {}).get("securitySchemes", {}):
        if name not in required:
            problems.append(f"oas3-unused-component: #/components/securitySchemes/{name}")
    for kind, components in document.get("components", {}).items():
        if kind == "securitySchemes":  # named by security requirements, not by $ref
            continue
        for name in components:
            if f"'#/components/{kind}/{name}'" not in text:
                problems.append(f"oas3-unused-component: #/components/{kind}/{name}")
    for key in document["paths"]:
        if key != "/" and key.endswith("/"):
            problems.append(f"path-keys-no-trailing-slash: {key}")
        if "?" in key:
            problems.append(f"path-not-include-query: {key}")
    return problems


_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _schema_problems(where: str, schema: Any) -> list[str]:
    """typed-enum, duplicated-entry-in-enum, array-items, and no empty ``{}`` schema."""
    problems: list[str] = []
    if not isinstance(schema, dict):
        return problems
    if not schema:
        problems.append(f"empty schema: {where}")
    if "enum" in schema:
        values = schema["enum"]
        if len({repr(v) for v in values}) != len(values):
            problems.append(f"duplicated-entry-in-enum: {where}")
        types = schema.get("type")
        if isinstance(types, str):
            types = [types]
        if types:
            allowed = tuple(t for name in types for t in _as_tuple(_TYPES.get(name, object)))
            for value in values:
                if not isinstance(value, allowed) or (
                    isinstance(value, bool) and bool not in allowed
                ):
                    problems.append(f"typed-enum: {where} has {value!r}")
    if schema.get("type") == "array" and "items" not in schema and "prefixItems" not in schema:
        problems.append(f"array-items: {where}")
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            problems += _schema_problems(f"{where}.{key}", schema[key])
    for key in ("properties", "$defs"):
        for name, child in schema.get(key, {}).items():
            problems += _schema_problems(f"{where}.{key}.{name}", child)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for index, child in enumerate(schema.get(key, [])):
            problems += _schema_problems(f"{where}.{key}[{index}]", child)
    return problems


def _as_tuple(kind: Any) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def test_the_document_lints_without_a_warning(document: dict[str, Any]) -> None:
    assert lint(document) == []


def test_the_lint_finds_what_it_looks_for(document: dict[str, Any]) -> None:
    broken = {**document, "servers": [{"url": "http://example.org/"}]}
    broken["tags"] = [t for t in document["tags"] if t["name"] != "exports"]
    broken["paths"] = {
        **document["paths"],
        "/extra": {"get": {"responses": {"200": {"content": {"text/csv": {}}}}}},
    }
    found = {problem.split(":")[0] for problem in lint(broken)}
    assert {
        "oas3-server-trailing-slash",
        "operation-tag-defined",
        "operation-operationId",
        "operation-summary",
        "operation-description",
        "operation-tags",
        "empty schema",
    } <= found


def test_every_download_is_a_typed_binary_string(document: dict[str, Any]) -> None:
    declared = dict(operations(document))
    for name, media_type in DOWNLOADS.items():
        content = declared[name]["responses"]["200"]["content"]
        assert content == {media_type: {"schema": BINARY}}, name


def test_a_queued_report_job_is_typed_as_the_job(document: dict[str, Any]) -> None:
    accepted = document["paths"]["/v1/assessments/{assessment_id}/reports"]["post"]["responses"][
        "202"
    ]
    schema = accepted["content"]["application/json"]["schema"]
    job = resolve(document, schema)
    assert {"id", "status", "assessment_id"} <= set(job["properties"])
    assert "Location" in accepted["headers"]


def test_request_id_and_idempotency_key_are_declared_where_they_are_honoured(
    document: dict[str, Any],
) -> None:
    for name, operation in operations(document):
        parameters = {
            resolve(document, p)["name"]: resolve(document, p) for p in operation["parameters"]
        }
        assert parameters["X-Request-ID"]["in"] == "header", name
        honours_key = name.startswith("POST /v1/") or name.startswith("POST /fhir/")
        assert ("Idempotency-Key" in parameters) is honours_key, name
        for code, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], (name, code)
            if honours_key:
                assert "Idempotent-Replayed" in response["headers"], (name, code)
        if honours_key:
            assert "Idempotency-Key" in operation["responses"]["409"]["description"], name


def test_the_document_names_its_server_contact_and_licence(
    document: dict[str, Any], client: TestClient
) -> None:
    assert document["servers"] == [{"url": "http://testserver", "description": "This server."}]
    assert document["info"]["contact"]["name"] == "smm-assess"
    assert document["info"]["license"]["name"] == "Apache-2.0"
    used = {tag for _, op in operations(document) for tag in op["tags"]}
    listed = {tag["name"]: tag["description"] for tag in document["tags"]}
    assert used <= set(listed)
    assert all(listed.values())


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-init.js"]),
        ("/redoc", ["redoc.standalone.js", "redoc-init.js"]),
    ],
)
def test_the_docs_pages_load_only_the_services_own_files(
    client: TestClient, page: str, assets: list[str]
) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not EXTERNAL_URL.search(html), EXTERNAL_URL.search(html)
    assert "<script>" not in html  # every script is a file: the page runs under script-src 'self'
    assert "<style" not in html
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert referenced == [f"/docs/static/{name}" for name in assets]
    for url in referenced:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100
    init = client.get(referenced[-1]).text
    assert not EXTERNAL_URL.search(init)
    assert "validatorUrl: null" in init or "Redoc.init" in init
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "default-src 'self';" in policy
    assert policy != FORM_POLICY


def test_the_vendored_viewers_name_their_package_version_and_licence() -> None:
    from app.docs.pages import STATIC

    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    assert "swagger-ui-dist" in readme
    assert "5.35.0" in readme
    assert "redoc" in readme
    assert "2.5.4" in readme
    assert (STATIC / "swagger-ui-LICENSE").exists()
    assert (STATIC / "redoc-LICENSE").exists()
