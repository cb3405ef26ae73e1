"""The FastAPI application: create_app() wires settings, database, questionnaires, routes,
error handlers and middleware (each defined in its own module)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

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
    portfolio,
    questionnaires,
    reports,
)
from app.config import Settings, get_settings
from app.console.routes import install_console
from app.db import ConnectionGate, make_engine, pool_capacity, session_factory
from app.docs.openapi import CONTACT, LICENSE, document, operation_id
from app.docs.pages import install_docs
from app.http.errors import install_error_handlers
from app.http.middleware import BodySizeLimit, IdempotencyKeys
from app.http.unit_of_work import install_unit_of_work
from app.jobs import queue
from app.jobs.runner import LocalRunner
from app.observability.requests import RequestContext
from app.questionnaire.registry import QuestionnaireRegistry, load_published
from app.reports import sandbox
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
        # The first render of this process (a pre-render, or a download that renders) would
        # otherwise wait for the fork server to start and import WeasyPrint (about 0.9 s).
        threading.Thread(target=sandbox.warm_up, name="smm-warm-up", daemon=True).start()
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
                "name": "portfolio",
                "description": (
                    "A consultant's client organizations at a glance: current levels, trends, "
                    "invitations and each one's next roadmap step."
                ),
            },
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
        portfolio,
        fhir,
        audit,
        health,
        metrics,
    )
    for module in routers:
        app.include_router(module.router)
    app.openapi = lambda: document(app, None)  # type: ignore[method-assign]
    install_docs(app, settings.public_url)
    install_error_handlers(app)  # JSON; under /fhir/r4, OperationOutcome
    install_web(app, settings)
    install_console(app)
    # Inside the unit of work, which stores the response it holds back with the writes;
    # inside the body limit, as it reads whole bodies to fingerprint retries.
    app.add_middleware(IdempotencyKeys)
    install_unit_of_work(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)  # outermost: every response and log line gets its id
    return app
