"""Every error under /fhir/r4 as an OperationOutcome, wherever it is raised.

Routes answer their own errors (see ``FhirRoute``); this covers what never reaches a
route: unknown paths and resource types (404), methods a path does not have (405), and
anything unexpected (500). The native API keeps its own error shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic_core import to_json
from starlette.exceptions import HTTPException

from app.errors import AppError
from app.fhir import terms
from app.fhir.outcome import issue, operation_outcome, outcome_for, validation_issues
from app.observability.logs import current_context
from app.observability.requests import REQUEST_ID_HEADER

PREFIX = "/fhir/r4"
log = logging.getLogger("smm")

Handler = Callable[[Request, Any], Awaitable[Response] | Response]


def fhir_json(resource: dict[str, Any], status_code: int = 200, **headers: str) -> Response:
    """A FHIR resource as the response body, typed application/fhir+json."""
    return Response(
        to_json(resource), status_code=status_code, media_type=terms.FHIR_JSON, headers=headers
    )


def is_fhir_path(path: str) -> bool:
    """Whether a request path is under the FHIR endpoint."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_outcome(request: Request, error: Exception) -> Response:
    """The OperationOutcome response for an error raised while serving a FHIR path."""
    if isinstance(error, AppError):
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else {}
        return fhir_json(outcome_for(error), error.status_code, **headers)
    if isinstance(error, RequestValidationError):
        problems = list(error.errors())
        if all(p.get("loc", ("",))[0] == "path" for p in problems):
            # A malformed id in the path names nothing that exists, as in the native API.
            return fhir_json(operation_outcome([issue("not-found", "No such resource.")]), 404)
        return fhir_json(operation_outcome(validation_issues(problems)), 422)
    if isinstance(error, HTTPException):
        return _http_outcome(request, error)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    # Sent from outside the middleware stack: the request id header is added here.
    request_id = current_context().get("request_id")
    outcome = operation_outcome([issue("exception", "Something went wrong on our side.")])
    return fhir_json(outcome, 500, **({REQUEST_ID_HEADER: str(request_id)} if request_id else {}))


def _http_outcome(request: Request, error: HTTPException) -> Response:
    headers = {k: v for k, v in (error.headers or {}).items() if k.lower() != "content-type"}
    if error.status_code == 404:
        detail = (
            f"There is no {request.url.path} here: this endpoint serves Questionnaire and "
            f"QuestionnaireResponse (see {PREFIX}/metadata)."
        )
        return fhir_json(operation_outcome([issue("not-found", detail)]), 404, **headers)
    if error.status_code == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not supported here; use {' or '.join(allowed)}."
        return fhir_json(operation_outcome([issue("not-supported", detail)]), 405, **headers)
    detail = error.detail if isinstance(error.detail, str) else "The request failed."
    code = {400: "structure", 413: "too-costly"}.get(error.status_code, "processing")
    return fhir_json(operation_outcome([issue(code, detail)]), error.status_code, **headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI description gives for the request's path."""
    methods: set[str] = set()
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations if method in _METHODS}
    return sorted(methods)


_METHODS = frozenset({"get", "put", "post", "delete", "patch"})


def install_outcome_errors(app: FastAPI) -> None:
    """Make every error handler of ``app`` answer an OperationOutcome under /fhir/r4."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _outcome_under_fhir(handler)


def _outcome_under_fhir(native: Handler) -> Handler:
    async def handle(request: Request, error: Any) -> Response:
        if is_fhir_path(request.url.path):
            return error_outcome(request, error)
        answer = native(request, error)
        return await answer if isinstance(answer, Awaitable) else answer

    return handle
