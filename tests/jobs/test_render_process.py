"""A worker's long-lived render process: reused, recycled every N jobs, never trusted
after a failure, and held to the same time and memory limits as a one-off render."""

from __future__ import annotations

import time

import pytest

from app.reports.sandbox import RenderFailed, RenderProcess, RenderTimedOut
from tests.jobs import hostile

MEMORY = 512 * 2**20


@pytest.fixture
def process():
    process = RenderProcess(memory_bytes=MEMORY, recycle_after=3)
    yield process
    process.close()


def test_one_process_renders_several_jobs_then_is_replaced(process):
    pids = [process.run(hostile.whoami, "", timeout=30) for _ in range(7)]

    # Jobs 1-3 in the first process, 4-6 in the second, 7 in a third.
    assert len(set(pids[0:3])) == len(set(pids[3:6])) == 1
    assert len(set(pids)) == 3
    assert process.generation == 3


def test_a_render_over_its_time_is_stopped_and_the_next_gets_a_fresh_process(process):
    first = process.run(hostile.whoami, "", timeout=30)
    started = time.monotonic()

    with pytest.raises(RenderTimedOut, match="longer than 1 s"):
        process.run(hostile.spin, "", timeout=1)

    assert time.monotonic() - started < 10
    assert process.run(hostile.whoami, "", timeout=30) != first


def test_a_render_that_eats_memory_fails_at_the_limit_and_the_process_is_replaced():
    process = RenderProcess(memory_bytes=256 * 2**20, recycle_after=50)
    try:
        first = process.run(hostile.whoami, "", timeout=30)
        with pytest.raises(RenderFailed, match="more than 256 MiB"):
            process.run(hostile.hog_memory, "", timeout=30)
        assert process.run(hostile.whoami, "", timeout=30) != first
    finally:
        process.close()


def test_a_failing_render_reports_why_and_the_worker_carries_on(process):
    with pytest.raises(RenderFailed, match="layout engine exploded"):
        process.run(hostile.crash, "", timeout=30)

    assert process.run(hostile.echo, "%PDF-ok", timeout=30) == b"%PDF-ok"
