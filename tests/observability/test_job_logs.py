"""Report jobs log under their job id, so one job's lines can be found among many."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from app.config import Settings
from app.jobs.runner import LocalRunner
from app.observability.logs import JsonFormatter


@pytest.fixture
def job_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("smm.jobs")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_every_line_a_report_job_logs_carries_its_job_id(
    connection: Connection, registry, tmp_path: Path, job_log
):
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", render_workers=1)
    runner = LocalRunner(factory, registry, settings)  # not started: one job, run here
    vanished = uuid.uuid4()  # a job deleted after it was claimed: the run fails, and says so
    runner._slots.acquire()

    runner._run(vanished)
    runner._pool.shutdown()

    lines = [json.loads(line) for line in job_log.getvalue().splitlines()]
    assert lines
    assert {line["job_id"] for line in lines} == {str(vanished)}
    assert "failed unexpectedly" in lines[-1]["message"]
    assert "request_id" not in lines[-1]
