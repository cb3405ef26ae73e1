"""The FastAPI application: create_app() wires settings, database, questionnaires and routes."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__
from app.api import (
    assessments,
    audit,
    batches,
    consultants,
    exports,
    fhir,
    health,
    invitations,
    metrics,
    organizations,
    questionnaires,
    reports,
)
from app.api.unit_of_work import install_unit_of_work
from app.config import Settings, get_settings
from app.db import ConnectionGate, make_engine, pool_capacity, session_factory
from app.docs.openapi import CONTACT, LICENSE, document, operation_id
from app.docs.pages import install_docs
from app.errors import AppError, FieldError
from app.fhir.http import install_outcome_errors
from app.jobs import isolation, queue
from app.jobs.runner import LocalRunner
from app.observability.logs import current_context
from app.observability.requests import REQUEST_ID_HEADER, RequestContext
from app.questionnaire.registry import QuestionnaireRegistry, load_published
from app.text import printable
from app.web.routes import install_web

log = logging.getLogger("smm")

DESCRIPTION = """\
Scores a hospital's answers to a social-media maturity questionnaire on three dimensions
(presence, consistency, security), explains every level, and stores assessments.

Authenticate with an API key from `smm keys create`: `Authorization: Bearer smm_...`.
Errors are JSON: `{"error": "<code>", "detail": "<sentence>"}`; 422 bodies add `errors`,
each naming the field (e.g. `answers[3].value`) and the question id.

Retry any POST safely with an `Idempotency-Key: <1-255 visible ASCII characters>` header:
a retry of the same request gets the first response again (`Idempotent-Replayed: true`)
and stores nothing new; the same key on a different request is 409. Keys last 24 hours.
"""


def load_registry(settings: Settings, engine: Engine) -> QuestionnaireRegistry:
    """Load questionnaire files, verify them against what was published, publish new ones."""
    return load_published(engine, settings.questionnaires_dir)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    registry: QuestionnaireRegistry | None = None,
) -> FastAPI:
    """Build the application. Without an engine or registry, they are made at start-up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = engine is None
        if owned:  # otherwise create_app set both (and a test may have replaced the factory)
            app.state.engine = make_engine(settings.database_url)
            app.state.session_factory = session_factory(app.state.engine)
            app.state.db_gate = ConnectionGate(
                pool_capacity(app.state.engine), settings.database_wait_seconds
            )
        app.state.registry = registry or load_registry(settings, app.state.engine)
        runner = None
        app.state.report_queue = None
        if settings.uses_job_queue:
            # `smm worker` processes render; this process only puts jobs on the queue.
            app.state.report_queue = queue.client_app(settings.database_url)
        elif settings.run_report_jobs:
            runner = LocalRunner(app.state.session_factory, app.state.registry, settings)
            runner.start()
            # The first render would otherwise wait for the fork server to import WeasyPrint.
            threading.Thread(target=isolation.warm_up, name="smm-warm-up", daemon=True).start()
        yield
        if runner is not None:
            runner.stop()
        if owned:
            app.state.engine.dispose()

    app = FastAPI(
        title="smm-assess",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        contact=CONTACT,
        license_info=LICENSE,
        generate_unique_id_function=operation_id,
        openapi_url=None,  # served by install_docs, with the vendored viewers
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "questionnaires", "description": "Definitions, with every option's score."},
            {"name": "organizations", "description": "Client organizations."},
            {"name": "assessments", "description": "Answers, scores, levels and explanations."},
            {
                "name": "history, settings and peers",
                "description": (
                    "An organization's assessments over time, its roadmap settings and how it "
                    "compares with its peers."
                ),
            },
            {
                "name": "roadmaps and reports",
                "description": "Costed, phased roadmaps and their PDF reports.",
            },
            {"name": "invitations", "description": "Links to the web form for hospital staff."},
            {
                "name": "fhir",
                "description": (
                    "FHIR R4 (application/fhir+json): questionnaires as Questionnaire, answers "
                    "posted as QuestionnaireResponse; errors as OperationOutcome."
                ),
            },
            {"name": "exports", "description": "Assessments as CSV and Excel, within scope."},
            {"name": "audit", "description": "Who wrote, downloaded, signed in or was refused."},
            {"name": "health", "description": "Probes and metrics."},
        ],
    )
    app.state.settings = settings
    if engine is not None:  # ready before start-up, for tests that skip the lifespan
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
        app.state.db_gate = ConnectionGate(pool_capacity(engine), settings.database_wait_seconds)
    if registry is not None:
        app.state.registry = registry
    routers = (
        questionnaires,
        organizations,
        assessments,
        consultants,
        reports,
        batches,
        exports,
        invitations,
        fhir,
        audit,
        health,
        metrics,
    )
    for module in routers:
        app.include_router(module.router)
    app.openapi = lambda: document(app, None)  # type: ignore[method-assign]
    install_docs(app, settings.public_url)
    _install_error_handlers(app)
    install_outcome_errors(app)  # under /fhir/r4, every error is an OperationOutcome
    install_web(app, settings)
    # Inside the body limit: the unit of work reads whole bodies to fingerprint retries.
    install_unit_of_work(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)  # outermost: every response and log line gets its id
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers() or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
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
    field = ""
    for part in location:
        # A dict key is echoed: escape what is not text, or the answer could not be encoded.
        name = printable(str(part))
        field += f"[{part}]" if isinstance(part, int) else (f".{name}" if field else name)
    message = error.get("msg", "is not valid")
    return FieldError(field=field or "body", message=f"{field or 'body'}: {message}")


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before anything parses them.

    The body is read here, chunk by chunk, and handed on whole: a body sent without a
    Content-Length (chunked) is cut off as soon as it passes the limit, as one with an
    honest Content-Length is refused before a byte of it is read.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(send)
                return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away; let the app see it
                pending: list[MutableMapping[str, Any]] = [message]
                break
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> MutableMapping[str, Any]:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = (
            b'{"error":"payload_too_large","detail":"The request body is larger than '
            + str(self.max_bytes).encode()
            + b' bytes."}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
