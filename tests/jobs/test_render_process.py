"""A worker's long-lived render process: reused, recycled every N jobs, never trusted
after a failure, held to the same time and memory limits as a one-off render, and
stopped at once with its pool (Ctrl-C in `smm report --all`)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from app.reports.sandbox import (
    RenderCancelled,
    RenderFailed,
    RenderPool,
    RenderProcess,
    RenderTimedOut,
)
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


def test_a_long_lived_process_frees_each_documents_garbage_after_sending_it(process):
    # Render children do not collect while rendering; a long-lived one must still free
    # what each document left, or a worker's memory would grow job after job.
    process.recycle_after = 50
    before = int(process.run(hostile.live_objects, "", timeout=30))
    for _ in range(3):
        assert process.run(hostile.leave_cycles, "100000", timeout=30) == b"%PDF-cycles"
    after = int(process.run(hostile.live_objects, "", timeout=30))

    assert process.generation == 1
    assert after - before < 5_000


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


def test_stopping_a_pool_ends_its_busy_renders_at_once_and_refuses_new_ones():
    pool = RenderPool(2, memory_bytes=MEMORY, recycle_after=50)
    outcomes: list[BaseException | bytes] = []

    def render() -> None:
        try:
            with pool.borrow() as process:
                outcomes.append(process.run(hostile.spin, "", timeout=120))
        except RenderFailed as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=render) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while not all(p._child is not None and p._child.is_alive() for p in pool._all):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    children = [p._child for p in pool._all]
    started = time.monotonic()

    pool.stop()
    for thread in threads:
        thread.join(30)

    assert time.monotonic() - started < 10  # not the two minutes the renders were allowed
    assert len(outcomes) == 2
    assert all(isinstance(o, RenderCancelled) for o in outcomes), outcomes
    assert not any(child is not None and child.is_alive() for child in children)
    with pytest.raises(RenderCancelled), pool.borrow() as process:
        process.run(hostile.echo, "%PDF-ok", timeout=30)
    pool.close()


def test_a_render_process_ignores_ctrl_c_which_is_its_parents_to_act_on(process):
    pid = int(process.run(hostile.whoami, "", timeout=30))

    os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C sends the whole process group

    assert process.run(hostile.whoami, "", timeout=30) == str(pid).encode()
