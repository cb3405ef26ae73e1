"""What the benchmarks share: per-call timing, percentiles, goals and a note on the machine."""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("academic-medical-center", "community-hospital")
# Any well-formed id: the parse and scoring benchmarks never look it up.
PLACEHOLDER_ORGANIZATION = uuid.UUID("0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11")


class BenchError(Exception):
    """The benchmark could not run as set up."""


def _exit_on_sigterm(_signum: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signal.SIGTERM)


def run_benchmark(name: str, body: Callable[[ExitStack], int | None]) -> int:
    """Run ``body`` with an ExitStack that stops every server and process it started, also
    on SIGTERM; a BenchError is printed under the benchmark's name and exits 2."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with ExitStack() as stack:
            return body(stack) or 0
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2


@dataclass(frozen=True, slots=True)
class Timing:
    """Microseconds per call: wall-clock median and p95, and the median CPU time."""

    median_us: float
    p95_us: float
    cpu_median_us: float
    samples: int


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 < fraction <= 1)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[rank - 1]


def _samples(call: Callable[[], object], clock: Callable[[], int], count: int) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        start = clock()
        call()
        samples.append((clock() - start) / 1000)
    return samples


def time_calls(call: Callable[[], object], *, repetitions: int, warmup: int) -> Timing:
    """Run ``call`` ``warmup`` times untimed, then time ``repetitions`` calls one by one.

    Two passes: wall clock (what a caller waits), then this thread's CPU time, which
    leaves out the time the machine gave to other processes (the CPU clock itself costs
    about a microsecond a reading here, so that figure is slightly high).
    """
    for _ in range(warmup):
        call()
    wall = _samples(call, time.perf_counter_ns, repetitions)
    cpu = _samples(call, time.thread_time_ns, repetitions)
    return Timing(
        statistics.median(wall), percentile(wall, 0.95), statistics.median(cpu), len(wall)
    )


def against_goal(value: float, goal: float, *, higher_is_better: bool = False) -> str:
    """'met' or 'MISSED (N x the goal)', for a figure printed beside its goal."""
    met = value >= goal if higher_is_better else value <= goal
    if met:
        return "met"
    return f"MISSED ({value / goal:.2f}x the goal)"


def example_document(name: str) -> dict[str, Any]:
    """An answers file from examples/, as a dict."""
    document: dict[str, Any] = json.loads(
        (ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8")
    )
    return document


def request_body(name: str, organization_id: uuid.UUID) -> bytes:
    """The POST /v1/assessments body for an example, as a client would send it."""
    body = {"organization_id": str(organization_id), **example_document(name)}
    return json.dumps(body).encode()


def machine_note() -> str:
    """One line on where and when the figures were taken (load average included)."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )


def code_note() -> str:
    """The commit measured, and whether app/ had uncommitted changes (others edit it)."""
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "app"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {head}" + (", with uncommitted changes in app/" if dirty else "")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain left-aligned text table."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()  # fields from the third (state) on
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and every live descendant (uvicorn's worker processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += process_cpu_seconds(current)
        except OSError:
            continue
        pending.extend(children.get(current, []))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy, all cores added (Linux /proc/stat)."""
    with Path("/proc/stat").open(encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Nearest-rank percentiles of a set of latencies (NaN when there are none)."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float


def latency_summary(values: Sequence[float]) -> LatencySummary:
    """Count, p50, p95, p99 and maximum of ``values``."""
    if not values:
        nan = float("nan")
        return LatencySummary(0, nan, nan, nan, nan)
    return LatencySummary(
        len(values),
        percentile(values, 0.50),
        percentile(values, 0.95),
        percentile(values, 0.99),
        max(values),
    )


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback_url(url: str) -> bool:
    """Whether a URL's host is this machine's loopback (benchmarks never go further)."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS


def _tree(pid: int) -> list[int]:
    """A process and its live descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def process_tree_cpu_seconds_with_reaped(pid: int) -> float:
    """CPU time of a process tree, with the children each member has already waited for.

    ``process_tree_cpu_seconds`` counts live processes only, so a render done in a short-lived
    child (the forkserver's children, which it reaps) is missing there; the kernel adds a
    reaped child's time, its own reaped children included, to its parent's cutime and cstime.
    """
    total = 0.0
    for member in _tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text(encoding="ascii")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # fields from the third (state) on
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        total += (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")
    return total
