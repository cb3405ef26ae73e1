"""`smm worker` refuses a database it cannot run on, and exposes metrics when asked."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.jobs.fleet import Fleet, worker_environment
from tests.support.cli import environment_without_settings, run_smm
from tests.support.databases import create_postgres_database
from tests.support.servers import free_port


def test_worker_on_sqlite_explains_that_it_needs_postgresql(tmp_path: Path):
    environment = environment_without_settings()
    environment["SMM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'smm.db'}"

    result = run_smm("worker", env=environment, check=False)

    assert result.returncode == 1
    assert "needs PostgreSQL" in result.stderr


@pytest.mark.postgres
def test_worker_serves_prometheus_metrics_on_the_port_given(postgres_server, tmp_path):
    url, drop = create_postgres_database(postgres_server)
    run_smm("migrate", env=worker_environment(url))
    port = free_port()
    fleet = Fleet(worker_environment(url), tmp_path)
    fleet.start(metrics_port=port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(fleet.logs()) from None
                time.sleep(0.2)
    finally:
        fleet.stop()
        drop()
    assert "smm_worker_jobs_running 0.0" in body
    assert "# TYPE smm_report_render_seconds histogram" in body
