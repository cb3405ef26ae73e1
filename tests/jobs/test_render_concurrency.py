"""How many reports a process renders at once by default: one per CPU it may use."""

from __future__ import annotations

import pytest

from app import config
from app.config import Settings


@pytest.fixture
def four_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    monkeypatch.delenv("SMM_RENDER_WORKERS", raising=False)


def test_the_default_is_the_cpus_this_process_may_use(four_cpus, monkeypatch):
    monkeypatch.setattr(config, "memory_mb", lambda: 64 * 1024)

    assert config.usable_cpus() == 4
    assert Settings().render_workers == 4


def test_the_default_renders_no_more_at_once_than_memory_holds_at_their_limit(
    four_cpus, monkeypatch
):
    monkeypatch.setattr(config, "memory_mb", lambda: 3 * 1024)

    assert Settings().render_workers == 3  # 1024 MiB each by default
    assert Settings(render_memory_mb=2048).render_workers == 1
    assert Settings(render_memory_mb=128).render_workers == 4


def test_the_setting_overrides_the_default(four_cpus, monkeypatch):
    monkeypatch.setenv("SMM_RENDER_WORKERS", "1")

    assert Settings().render_workers == 1


def test_a_machine_without_an_affinity_mask_counts_its_cpus(monkeypatch):
    monkeypatch.delattr(config.os, "sched_getaffinity")
    monkeypatch.setattr(config.os, "cpu_count", lambda: 6)

    assert config.usable_cpus() == 6
