"""`smm serve`, `smm worker` and `smm migrate`: running the service and its database."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from app.cli.console import fail, out
from app.cli.database import Migrations, database


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default SMM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SMM_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default SMM_WORKERS).")
    ] = None,
) -> None:
    """Apply migrations, load and verify questionnaires, and start the API server.

    With SMM_MIGRATE_ON_START=false the database must already be migrated (`smm migrate`).
    """
    import uvicorn

    from app.config import get_settings
    from app.db import database_role_warning
    from app.observability.logs import configure_logging, logging_config

    settings = get_settings()
    configure_logging(settings)
    migrations = Migrations.APPLY if settings.migrate_on_start else Migrations.REQUIRE
    with database(settings, migrations=migrations, questionnaires=True, transaction=False) as db:
        versions = ", ".join(
            f"{d.definition.id} v{d.definition.version}" for d in db.registry.latest()
        )
        migrated = "migrated" if settings.migrate_on_start else "at the latest migration"
        logging.getLogger("smm").info(
            "Database %s; questionnaires verified: %s", migrated, versions
        )
        if warning := database_role_warning(db.engine):
            logging.getLogger("smm").warning(warning)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
        timeout_keep_alive=settings.keep_alive_seconds,
        log_level=settings.log_level,
        log_config=logging_config(settings),
        # X-Forwarded-For/-Proto only from the proxies listed: uvicorn would otherwise
        # believe any local process (its default trusts 127.0.0.1).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Jobs this worker runs at once, each report in a render process of its own "
            "(default SMM_RENDER_WORKERS: one per CPU).",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Serve Prometheus metrics on this port."),
    ] = None,
) -> None:
    """Render report jobs from the PostgreSQL queue until stopped (SIGINT or SIGTERM)."""
    from app.config import get_settings
    from app.jobs import worker as render_worker
    from app.observability.logs import configure_logging

    settings = get_settings()
    if settings.is_sqlite:
        raise fail("`smm worker` needs PostgreSQL (SMM_DATABASE_URL=postgresql://...)")
    configure_logging(settings)
    with database(
        settings, migrations=Migrations.TRUST, questionnaires=True, transaction=False
    ) as db:
        registry = db.registry
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)
    render_worker.run(settings, registry, concurrency or settings.render_workers)


def migrate() -> None:
    """Apply database migrations, publish new questionnaire versions, and exit."""
    from app.config import get_settings

    settings = get_settings()
    with database(settings, questionnaires=True, transaction=False) as db:
        published = len(db.registry)
    out.print("Database is at the latest migration.")
    out.print(f"Questionnaire versions published: {published}.")
