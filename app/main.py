"""The FastAPI application: create_app() wires settings, database, questionnaires and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__
from app.api import assessments, health, organizations, questionnaires
from app.config import Settings, get_settings
from app.db import make_engine, session_factory, transaction
from app.errors import AppError, FieldError
from app.questionnaire.loader import load_directory
from app.questionnaire.registry import QuestionnaireRegistry, publish

log = logging.getLogger("smm")

DESCRIPTION = """\
Scores a hospital's answers to a social-media maturity questionnaire on three dimensions
(presence, consistency, security), explains every level, and stores assessments.

Authenticate with an API key from `smm keys create`: `Authorization: Bearer smm_...`.
Errors are JSON: `{"error": "<code>", "detail": "<sentence>"}`; 422 bodies add `errors`,
each naming the field (e.g. `answers[3].value`) and the question id.
"""


def load_registry(settings: Settings, engine: Engine) -> QuestionnaireRegistry:
    """Load questionnaire files, verify them against what was published, publish new ones."""
    loaded = load_directory(settings.questionnaires_dir)
    with transaction(session_factory(engine)) as session:
        return publish(session, loaded)


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
        app.state.engine = engine or make_engine(settings.database_url)
        app.state.session_factory = session_factory(app.state.engine)
        app.state.registry = registry or load_registry(settings, app.state.engine)
        yield
        if owned:
            app.state.engine.dispose()

    app = FastAPI(
        title="smm-assess",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "questionnaires", "description": "Definitions, with every option's score."},
            {"name": "organizations", "description": "Client organizations."},
            {"name": "assessments", "description": "Answers, scores, levels and explanations."},
            {"name": "health", "description": "Probes."},
        ],
    )
    app.state.settings = settings
    if engine is not None:  # ready before start-up, for tests that skip the lifespan
        app.state.engine = engine
        app.state.session_factory = session_factory(engine)
    if registry is not None:
        app.state.registry = registry
    for router in (questionnaires.router, organizations.router, assessments.router, health.router):
        app.include_router(router)
    _install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_field_error(e) for e in exc.errors()]
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
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 400:
            detail = "The body is not valid JSON."
        return JSONResponse(
            {"error": code, "detail": detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal_error", "detail": "Something went wrong on our side."},
            status_code=500,
        )


def _field_error(error: dict[str, Any]) -> FieldError:
    location = [p for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ""
    for part in location:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    message = error.get("msg", "is not valid")
    return FieldError(field=field or "body", message=f"{field or 'body'}: {message}")


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before anything parses them."""

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
        received = 0
        response_started = False

        async def limited_receive() -> MutableMapping[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._too_large(send)

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


class _BodyTooLarge(Exception):
    pass
