"""Report-job metrics: what a render worker exposes (`smm worker --metrics-port`), and the
job counts the API's /metrics reads from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.models import JobStatus, ReportJob

# Render time is the API's own histogram (smm_report_render_seconds), so one series
# covers renders wherever they run.
from app.observability.metrics import RENDER_SECONDS

JOBS_RUNNING = Gauge("smm_worker_jobs_running", "Report jobs this worker is rendering now.")
JOBS_FINISHED = Counter(
    "smm_worker_jobs",
    "Report job attempts this worker finished, by outcome (done, failed, retried).",
    ["outcome"],
)


class ReportJobCounts(Collector):
    """Report jobs by status, as counted in the database for one scrape."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "smm_report_jobs",
            "Report jobs in the database by status (queued, running, done, failed).",
            labels=["status"],
        )
        for status in JobStatus:
            gauge.add_metric([status.value], self.counts.get(status.value, 0))
        yield gauge


def report_job_counts(session: Session) -> dict[str, int]:
    """How many report jobs are in each status right now."""
    query = select(ReportJob.status, func.count()).group_by(ReportJob.status)
    counts: dict[str, int] = {}
    for status, count in session.execute(query):
        counts[status] = count
    return counts


__all__ = [
    "JOBS_FINISHED",
    "JOBS_RUNNING",
    "RENDER_SECONDS",
    "ReportJobCounts",
    "report_job_counts",
]
