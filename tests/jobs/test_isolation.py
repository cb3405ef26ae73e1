"""Rendering runs in a child process with a time and a memory limit."""

from __future__ import annotations

import time

import pytest

from app.reports.sandbox import RenderFailed, RenderTimedOut, run_isolated
from tests.jobs import hostile


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
