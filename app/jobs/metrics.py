"""What a render worker exposes for Prometheus (`smm worker --metrics-port`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

JOBS_RUNNING = Gauge("smm_worker_jobs_running", "Report jobs this worker is rendering now.")
JOBS_FINISHED = Counter(
    "smm_worker_jobs",
    "Report job attempts this worker finished, by outcome (done, failed, retried).",
    ["outcome"],
)
RENDER_SECONDS = Histogram(
    "smm_worker_render_seconds",
    "Seconds a report PDF took to render in this worker.",
    buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
