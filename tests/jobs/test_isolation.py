"""Rendering runs in a child process with a time and a memory limit."""

from __future__ import annotations

import os
import time

import pytest

from app.config import Settings
from app.reports.sandbox import RenderFailed, RenderPool, RenderTimedOut, run_isolated
from app.reports.service import SandboxedRenderer
from tests.jobs import hostile

OURS = os.nice(0)


def test_result_comes_back_from_the_child():
    assert run_isolated(hostile.echo, "%PDF-ok", timeout=30, memory_bytes=512 * 2**20) == b"%PDF-ok"


def test_a_render_that_never_ends_is_stopped_at_its_time_limit():
    started = time.monotonic()

    with pytest.raises(RenderTimedOut, match="longer than 1 s"):
        run_isolated(hostile.spin, "", timeout=1, memory_bytes=512 * 2**20)

    assert time.monotonic() - started < 10


def test_a_render_that_eats_memory_fails_cleanly_at_its_memory_limit():
    with pytest.raises(RenderFailed, match="more than 256 MiB"):
        run_isolated(hostile.hog_memory, "", timeout=30, memory_bytes=256 * 2**20)


def test_a_failing_render_reports_why():
    with pytest.raises(RenderFailed, match="layout engine exploded"):
        run_isolated(hostile.crash, "", timeout=30, memory_bytes=512 * 2**20)


def test_renders_run_at_a_lower_cpu_priority_than_the_service_by_default():
    settings = Settings()
    assert settings.render_niceness == 10
    renderer = SandboxedRenderer.from_settings(settings)

    nice = run_isolated(
        hostile.niceness,
        "",
        timeout=30,
        memory_bytes=renderer.memory_bytes,
        niceness=renderer.niceness,
    )

    assert int(nice) == min(OURS + 10, 19)
    assert os.nice(0) == OURS  # the service itself keeps its priority


def test_a_workers_render_processes_take_the_configured_niceness():
    pool = RenderPool.from_settings(2, Settings(render_niceness=3))
    try:
        with pool.borrow() as first, pool.borrow() as second:
            seen = {int(p.run(hostile.niceness, "", timeout=30)) for p in (first, second)}
    finally:
        pool.close()

    assert seen == {min(OURS + 3, 19)}


def test_niceness_zero_renders_at_the_services_priority():
    nice = run_isolated(hostile.niceness, "", timeout=30, memory_bytes=512 * 2**20, niceness=0)
    assert int(nice) == OURS
