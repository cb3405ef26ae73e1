"""With PROMETHEUS_MULTIPROC_DIR, a scrape of any worker process counts every worker's work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import generate_latest

from app.config import PROJECT_ROOT

WORKER = """
from app.observability.metrics import record_assessment
record_assessment("submitted", "api")
"""


def test_counts_of_several_worker_processes_add_up_in_one_scrape(tmp_path: Path, monkeypatch):
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(3):  # three worker processes, each submitting once
        subprocess.run(
            [sys.executable, "-c", WORKER],
            env=environment,
            cwd=PROJECT_ROOT,
            check=True,
            timeout=60,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    from app.observability.metrics import process_registry

    text = generate_latest(process_registry()).decode()

    assert 'smm_assessments_total{event="submitted",source="api"} 3.0' in text
