"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine

log = logging.getLogger("smm")
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    questionnaires: int


@router.get("/healthz", operation_id="checkLiveness")
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


def _database_answers(engine: Engine) -> bool:
    """Whether the database answers a query.

    A bare DBAPI cursor, outside any transaction. On SQLite the pool holds the one
    connection that requests queue for, and every transaction begins IMMEDIATE: the probe
    opens the file itself rather than wait behind the requests (and report "unavailable"
    for a process that is merely busy).
    """
    try:
        if engine.dialect.name == "sqlite":
            args, kwargs = engine.dialect.create_connect_args(engine.url)
            connection: Any = engine.dialect.connect(*args, **kwargs)
        else:
            connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        finally:
            connection.close()
    except Exception:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness: the database does not answer", exc_info=True)
        return False
    return True


@router.get(
    "/readyz",
    operation_id="checkReadiness",
    responses={503: {"model": Readiness, "description": "Not ready."}},
)
def readyz(request: Request) -> Readiness:
    """Readiness: the database answers and questionnaires are loaded."""
    database = "ok" if _database_answers(request.app.state.engine) else "unavailable"
    count = len(request.app.state.registry)
    ready = database == "ok" and count > 0
    body = Readiness(
        status="ok" if ready else "unavailable", database=database, questionnaires=count
    )
    if not ready:
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body
