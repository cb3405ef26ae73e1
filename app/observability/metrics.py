"""Prometheus metrics: request latency by route, submissions, report jobs, render time.

Counters and histograms live in the process that observes them. The report-job gauges
are different: they are counted in the ``report_jobs`` table at scrape time, so every API
process reports the same, right figures whichever process or worker queued or ran a job.
With ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus_client's multiprocess mode, for
``smm serve --workers N``), a scrape adds up every worker process's counters.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY, Collector

REQUEST_SECONDS = Histogram(
    "smm_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (never the raw path), method and "
    "status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ASSESSMENTS = Counter(
    "smm_assessments",
    "Assessments stored: created (as draft or submitted) and submitted, by source.",
    ["event", "source"],
)
RENDER_SECONDS = Histogram(
    "smm_report_render_seconds",
    "Time to render one report PDF (view model, HTML and WeasyPrint, in its own process).",
    buckets=(0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120),
)

UNMATCHED_ROUTE = "unmatched"


def status_class(status: int) -> str:
    """``2xx``, ``4xx``...: one label value per class keeps the series few."""
    return f"{status // 100}xx"


def record_assessment(event: str, source: str) -> None:
    """Count an assessment ``created`` or ``submitted`` through ``source`` (api, web...)."""
    ASSESSMENTS.labels(event=event, source=source).inc()


def process_registry() -> CollectorRegistry:
    """This process's metrics, or every worker's in prometheus_client's multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def exposition(*collected: Collector) -> bytes:
    """The Prometheus text exposition of every metric, plus ``collected`` (collectors read
    at scrape time, such as the report-job counts)."""
    scrape = CollectorRegistry(auto_describe=True)
    for collector in collected:
        scrape.register(collector)
    return generate_latest(process_registry()) + generate_latest(scrape)
