"""Bursts of concurrent submits against a real `smm serve`, on SQLite and on PostgreSQL.

Each submit either succeeds and is stored, or is refused with 503 and Retry-After and
stores nothing: never a 500, never a service that stops answering.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import make_engine
from app.intake.models import Assessment
from tests.conftest import example
from tests.support.cli import run_smm
from tests.support.servers import running_server

CLIENTS = 50


@dataclass
class Server:
    base_url: str
    database_url: str
    admin_key: str
    log: Path
    wait_seconds: float


@pytest.fixture(params=["20", "0.05"], ids=["patient", "impatient"])
def server(
    request: pytest.FixtureRequest, fresh_database_url: str, tmp_path: Path
) -> Iterator[Server]:
    """`smm serve` on 127.0.0.1 with a new database, and an admin key for it.

    Requests wait up to 20 s for the database (ample: all are served), or 50 ms (many
    cannot be: they are refused with 503).
    """
    env = {
        **os.environ,
        "SMM_DATABASE_URL": fresh_database_url,
        "SMM_SECRET_KEY": "load-test-secret-key-0123456789abcdef",
        "SMM_LOG_FORMAT": "text",
        "SMM_DATABASE_WAIT_SECONDS": request.param,
    }
    log = tmp_path / "serve.log"
    with running_server(
        env, log, args=("--host", "127.0.0.1"), ready="/healthz", seconds=90
    ) as base_url:
        created = run_smm("keys", "create", "--role", "admin", env=env)
        yield Server(
            base_url,
            fresh_database_url,
            created.stdout.strip().splitlines()[-1],
            log,
            float(request.param),
        )


def _stored_assessments(database_url: str, organization_id: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            count = connection.scalar(
                select(func.count())
                .select_from(Assessment)
                .where(Assessment.organization_id == uuid.UUID(organization_id))
            )
            return int(count or 0)
    finally:
        engine.dispose()


def test_a_burst_of_concurrent_submits_is_queued_and_every_created_one_is_stored(
    server: Server,
) -> None:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    organization = httpx.post(
        f"{server.base_url}/v1/organizations",
        json={
            "name": "Burst Memorial",
            "type": "community_hospital",
            "licensed_beds": 120,
            "state": "MN",
        },
        headers=headers,
        timeout=30,
    )
    assert organization.status_code == 201, organization.text
    organization_id = organization.json()["id"]
    body = example("community-hospital")
    body["questionnaire"] = {"id": "hospital-social-media", "version": 1}
    body["organization_id"] = organization_id
    start = threading.Barrier(CLIENTS)

    def submit(_: int) -> tuple[int, str | None, float]:
        with httpx.Client(timeout=90) as client:
            start.wait()
            began = time.monotonic()
            response = client.post(f"{server.base_url}/v1/assessments", json=body, headers=headers)
            return (
                response.status_code,
                response.headers.get("retry-after"),
                time.monotonic() - began,
            )

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(submit, range(CLIENTS)))
    elapsed = time.monotonic() - began

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {201, 503}, (statuses, server.log.read_text()[-4000:])
    assert statuses[201] >= 1
    if server.wait_seconds >= 20:
        assert statuses[201] == CLIENTS  # queued, and every one served
    assert all(retry and int(retry) >= 1 for status, retry, _ in results if status == 503)
    assert _stored_assessments(server.database_url, organization_id) == statuses[201]
    # Bounded: the wait for the database is 20 s; no request hangs on a pool timeout.
    assert max(seconds for _, _, seconds in results) < 45, results
    assert elapsed < 60
    log = server.log.read_text()
    assert "QueuePool limit" not in log
    assert "Traceback" not in log
    # The service still answers at once after the burst.
    assert httpx.get(f"{server.base_url}/healthz", timeout=5).status_code == 200
