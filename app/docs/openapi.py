"""The OpenAPI document as generated clients read it: stable operation ids, declared headers.

FastAPI derives an operation id from the function name, the path and the method
(``create_assessment_v1_assessments_post``); generated clients turn that into their method
names, so here it is the function name in camelCase (``createAssessment``), or the route's
own ``operation_id``. The headers the middleware honours for every operation
(``X-Request-ID``, ``Idempotency-Key`` on POSTs) are added to each operation here, where
the rule that decides them is known, rather than on each route.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.idempotency.service import HEADER as IDEMPOTENCY_HEADER
from app.idempotency.service import REPLAYED_HEADER, applies_to
from app.observability.requests import REQUEST_ID_HEADER

CONTACT = {"name": "smm-assess", "url": "https://smm-assess.example.org"}
LICENSE = {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}

_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def operation_id(route: APIRoute) -> str:
    """The route's function name in camelCase: ``get_report_pdf`` -> ``getReportPdf``."""
    first, *rest = route.name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def document(app: FastAPI, server_url: str | None) -> dict[str, Any]:
    """The OpenAPI document (built once); with a ``server_url``, a copy whose ``servers``
    names it."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            contact=app.contact,
            license_info=app.license_info,
        )
        _declare_headers(schema)
        _share_request_schemas(schema)
        app.openapi_schema = schema
    if server_url is None:
        return app.openapi_schema
    served = copy.copy(app.openapi_schema)
    served["servers"] = [{"url": server_url.rstrip("/"), "description": "This server."}]
    return served


def _declare_headers(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("parameters", {}).update(
        {
            "RequestId": {
                "name": REQUEST_ID_HEADER,
                "in": "header",
                "required": False,
                "description": (
                    "Your id for this request, carried by every log line it causes and sent "
                    "back. 1-128 letters, digits and `._:-`, starting with a letter or digit; "
                    "any other value is not refused but replaced, as a missing one is, by a new id."
                ),
                "schema": {"type": "string"},
            },
            "IdempotencyKey": {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": (
                    "Makes retries safe: a retry of the same request with the same key gets the "
                    "first response back (`Idempotent-Replayed: true`) and stores nothing new; "
                    "the key on a different request is 409. Kept 24 hours."
                ),
                "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
            },
        }
    )
    components.setdefault("headers", {}).update(
        {
            "RequestId": {
                "description": "The request's id: yours if it was valid, otherwise a new one.",
                "schema": {"type": "string"},
            },
            "IdempotentReplayed": {
                "description": "`true` when this is the stored response to an earlier request.",
                "schema": {"type": "string", "enum": ["true"]},
            },
        }
    )
    for path, operations in schema.get("paths", {}).items():
        for method in _HTTP_METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            idempotent = applies_to(method.upper(), path)
            parameters = operation.setdefault("parameters", [])
            parameters.append({"$ref": "#/components/parameters/RequestId"})
            if idempotent:
                parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
                _document_key_reuse(operation)
            for response in operation.get("responses", {}).values():
                headers = response.setdefault("headers", {})
                headers[REQUEST_ID_HEADER] = {"$ref": "#/components/headers/RequestId"}
                if idempotent:
                    headers[REPLAYED_HEADER] = {"$ref": "#/components/headers/IdempotentReplayed"}


_KEY_REUSED = "The Idempotency-Key was already used for a different request."


def _document_key_reuse(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if "409" in responses:
        responses["409"]["description"] += " " + _KEY_REUSED.replace("The", "Or the", 1)
        return
    # The refusal has the shape of the operation's other errors (an OperationOutcome on FHIR).
    like = responses.get("422") or {}
    default = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    responses["409"] = {
        "description": _KEY_REUSED,
        "content": copy.deepcopy(like.get("content", default)),
    }
    operation["responses"] = dict(sorted(responses.items()))


def _share_request_schemas(schema: dict[str, Any]) -> None:
    """Make one component of an inline request schema that several media types repeat.

    A body taken as ``application/fhir+json`` and as ``application/json`` declares the same
    schema twice; a generator makes a model of each, under one name, and drops the second.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for operations in schema.get("paths", {}).values():
        for method in _HTTP_METHODS:
            operation = operations.get(method)
            content = ((operation or {}).get("requestBody") or {}).get("content", {})
            inline = [m for m in content.values() if "$ref" not in m.get("schema", {"$ref": ""})]
            if len(inline) < 2 or any(m["schema"] != inline[0]["schema"] for m in inline):
                continue
            name = operation["operationId"][:1].upper() + operation["operationId"][1:] + "Body"
            components[name] = inline[0]["schema"]
            for media_type in inline:
                media_type["schema"] = {"$ref": f"#/components/schemas/{name}"}
