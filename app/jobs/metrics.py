"""What a render worker exposes for Prometheus (`smm worker --metrics-port`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

# Render time is the API's own histogram (smm_report_render_seconds), so one series
# covers renders wherever they run.
from app.observability.metrics import RENDER_SECONDS

JOBS_RUNNING = Gauge("smm_worker_jobs_running", "Report jobs this worker is rendering now.")
JOBS_FINISHED = Counter(
    "smm_worker_jobs",
    "Report job attempts this worker finished, by outcome (done, failed, retried).",
    ["outcome"],
)

__all__ = ["JOBS_FINISHED", "JOBS_RUNNING", "RENDER_SECONDS"]
