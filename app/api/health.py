"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    questionnaires: int


@router.get("/healthz")
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Readiness, "description": "Not ready."}})
def readyz(request: Request) -> Readiness:
    """Readiness: the database answers and questionnaires are loaded."""
    database = "ok"
    try:
        with request.app.state.session_factory() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason goes to the log
        database = "unavailable"
    count = len(request.app.state.registry)
    ready = database == "ok" and count > 0
    body = Readiness(
        status="ok" if ready else "unavailable", database=database, questionnaires=count
    )
    if not ready:
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body
