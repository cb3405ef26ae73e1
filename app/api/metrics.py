"""GET /metrics: Prometheus metrics for the service and its report jobs."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.config import Settings
from app.errors import ErrorBody, Unauthenticated
from app.http.deps import SessionDep, SettingsDep
from app.jobs.metrics import ReportJobCounts, report_job_counts
from app.observability.metrics import exposition

router = APIRouter(tags=["health"])


def _check_token(request: Request, settings: Settings) -> None:
    """With SMM_METRICS_TOKEN set, only a scraper that sends it as a bearer token may read."""
    if settings.metrics_token is None:
        return
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    sent = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(sent, expected):
        raise Unauthenticated("GET /metrics needs the metrics token (SMM_METRICS_TOKEN).")


@router.get(
    "/metrics",
    operation_id="getMetrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format.",
        },
        401: {
            "model": ErrorBody,
            "description": "SMM_METRICS_TOKEN is set and the request does not carry it.",
        },
    },
)
def metrics(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Prometheus metrics: request latency by route, submissions, report jobs, render time."""
    _check_token(request, settings)
    counts = ReportJobCounts(report_job_counts(session))
    return Response(exposition(counts), media_type=CONTENT_TYPE_LATEST)
