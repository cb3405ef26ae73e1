"""Where a domain error becomes a response, for each door's dialect.

- JSON (the REST API): ``{"error": "<code>", "detail": "<sentence>", ...}``, from
  ``AppError.body()``; FastAPI's validation errors become 422 with ``errors`` naming each
  field (``field_path``), a malformed id in the path a 404, a body that is not JSON a 400.
- FHIR OperationOutcome (under /fhir/r4): the same errors through ``app.fhir.http``,
  which wraps every handler installed here.
- HTML (the web form): the web door renders its own error pages for its paths.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, FieldError, field_path
from app.fhir.http import install_outcome_errors
from app.http.context import record_of
from app.observability.logs import current_context
from app.observability.requests import REQUEST_ID_HEADER

log = logging.getLogger("smm")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in the native JSON shape; then, under /fhir/r4, as OperationOutcome."""

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers() or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        _note_organization(request, exc.body)
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                # Not a payload that fails validation: there is no payload to validate.
                reason = error.get("ctx", {}).get("error", "it cannot be parsed")
                position = error.get("loc", ("body", None))[-1]
                where = f" at character {position}" if isinstance(position, int) else ""
                return JSONResponse(
                    {
                        "error": "bad_request",
                        "detail": f"The body is not valid JSON: {reason}{where}.",
                    },
                    status_code=400,
                )
        problems = [_field_error(e) for e in exc.errors()]
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()) and _is_fixed_path(request):
            # PATCH /v1/assessments/batch: not an assessment id, but a path of its own
            # (POST only) that the router matched against /v1/assessments/{assessment_id}.
            allowed = _allowed_methods(request)
            return JSONResponse(
                {
                    "error": "method_not_allowed",
                    "detail": f"{request.method} is not allowed here; use {' or '.join(allowed)}.",
                },
                status_code=405,
                headers={"Allow": ", ".join(allowed)},
            )
        if all(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            # A malformed id in the path names nothing that exists.
            return JSONResponse(
                {"error": "not_found", "detail": "There is no such object."}, status_code=404
            )
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        return JSONResponse(
            {
                "error": "invalid_request",
                "detail": f"The request has {len(problems)} problem(s): {fields}.",
                "errors": [p.model_dump() for p in problems],
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }
        code = codes.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        headers = dict(exc.headers or {})
        if exc.status_code == 400:
            detail = "The body is not valid JSON."
        elif exc.status_code == 405:
            # The router's own Allow names at most the first matching route's methods;
            # name every method the path has.
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            if allowed:
                detail = f"{request.method} is not allowed here; use {' or '.join(allowed)}."
        return JSONResponse(
            {"error": code, "detail": detail}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Sent from outside the middleware stack: the request id header is added here.
        request_id = current_context().get("request_id")
        return JSONResponse(
            {"error": "internal_error", "detail": "Something went wrong on our side."},
            status_code=500,
            headers={REQUEST_ID_HEADER: str(request_id)} if request_id else None,
        )

    install_outcome_errors(app)  # under /fhir/r4, every error is an OperationOutcome


def _allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI description gives for the request's path."""
    methods: set[str] = set()
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    if request.url.path in paths:  # a fixed path: its own methods, not its id-taking sibling's
        return sorted(m.upper() for m in paths[request.url.path] if m in _HTTP_METHODS)
    for template, operations in paths.items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations if method in _HTTP_METHODS}
    return sorted(methods)


def _is_fixed_path(request: Request) -> bool:
    """Whether the OpenAPI description has the request's path as a template with no parameter."""
    return request.url.path in request.app.openapi().get("paths", {})


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _field_error(error: dict[str, Any]) -> FieldError:
    location = [p for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    # A dict key is echoed: escape what is not text, or the answer could not be encoded.
    field = field_path(location) or "body"
    message = error.get("msg", "is not valid")
    return FieldError(field=field, message=f"{field}: {message}")


def _note_organization(request: Request, body: Any) -> None:
    """A refused body's ``organization_id`` names the organization the request concerns."""
    record = record_of(request)
    if record.organization_id is not None or not isinstance(body, dict):
        return
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        record.in_organization(uuid.UUID(str(body.get("organization_id"))))
