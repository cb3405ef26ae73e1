"""Pages and seconds of `smm report` for this tree beside another git ref, in one run.

    .venv/bin/python bench/bench_report_compare.py [--against main] [--rounds 3]
        [--example v2-community-hospital:250 ...]

The ref is checked out with `git worktree add --detach` into a temporary directory (removed
on exit) and run with this tree's interpreter and installed dependencies, its own code on
PYTHONPATH and its own examples. Each round renders every example once with each tree,
alternating which tree goes first, so both see the same machine load. Each render is one
`smm report FILE --beds N -o OUT` process: its wall-clock seconds and its CPU seconds (user
and system, from the kernel's accounting of the child) include the interpreter start and the
imports, which the two trees share. Printed per example: pages, the median wall and CPU
seconds of each tree, and the ratio; the load average before each round.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pypdf
from benchlib import ROOT, machine_note, print_table

DEFAULT_EXAMPLES = (
    "v2-critical-access-hospital:25",
    "v2-community-hospital:250",
    "v2-academic-medical-center:800",
    "community-hospital:60",
)
ENTRY = "import sys; from app.cli import main; sys.exit(main())"
TIMEOUT_S = 300.0


class CompareError(Exception):
    """The comparison could not run; the message says why."""


@dataclass(slots=True)
class Series:
    """One tree's renders of one example."""

    pages: int = 0
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)


def render(tree: Path, example: str, beds: int, out: Path) -> tuple[float, float, int]:
    """One `smm report` in ``tree``: wall seconds, CPU seconds of the child, pages."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [
        sys.executable,
        "-c",
        ENTRY,
        "report",
        f"examples/{example}.json",
        "--beds",
        str(beds),
        "-o",
        str(out),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=tree, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise CompareError(f"{tree}: smm report {example}: {done.stderr.strip()[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    pages = len(pypdf.PdfReader(io.BytesIO(out.read_bytes())).pages)
    return wall, cpu, pages


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="the git ref to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="renders of each example per tree")
    parser.add_argument(
        "--example",
        action="append",
        help="NAME:BEDS, an examples/NAME.json and its licensed beds (repeatable)",
    )
    return parser.parse_args()


def compare(args: argparse.Namespace, baseline: Path, out_dir: Path) -> None:
    examples = []
    for item in args.example or DEFAULT_EXAMPLES:
        name, _, beds = item.partition(":")
        examples.append((name, int(beds or "60")))
    trees = {"this tree": ROOT, args.against: baseline}
    series = {(tree, name): Series() for tree in trees for name, _ in examples}
    for round_number in range(args.rounds):
        print(f"round {round_number + 1}: {machine_note()}", flush=True)
        order = list(trees) if round_number % 2 == 0 else list(reversed(trees))
        for name, beds in examples:
            for tree in order:
                wall, cpu, pages = render(trees[tree], name, beds, out_dir / f"{name}.pdf")
                entry = series[(tree, name)]
                entry.wall_s.append(wall)
                entry.cpu_s.append(cpu)
                entry.pages = pages
    rows = []
    for name, beds in examples:
        mine, theirs = series[("this tree", name)], series[(args.against, name)]
        my_cpu, their_cpu = statistics.median(mine.cpu_s), statistics.median(theirs.cpu_s)
        my_wall, their_wall = statistics.median(mine.wall_s), statistics.median(theirs.wall_s)
        rows.append(
            [
                f"{name} ({beds} beds)",
                f"{mine.pages} / {theirs.pages}",
                f"{my_cpu:.2f} / {their_cpu:.2f}",
                f"{my_cpu / their_cpu:.2f}",
                f"{my_wall:.2f} / {their_wall:.2f}",
                f"{my_wall / their_wall:.2f}",
            ]
        )
    print()
    print_table(
        [
            f"smm report, median of {args.rounds}",
            f"pages (this / {args.against})",
            "CPU s",
            "CPU ratio",
            "wall s",
            "wall ratio",
        ],
        rows,
    )
    print(f"\nend: {machine_note()}")


def main() -> int:
    args = parse_args()
    print(f"bench_report_compare: {machine_note()}")
    print(f"this tree: {git('rev-parse', '--short', 'HEAD')} (with uncommitted changes, if any)")
    commit = git("rev-parse", "--short", args.against)
    print(f"against: {args.against} = {commit}\n")
    scratch = Path(tempfile.mkdtemp(prefix="smm-bench-compare-"))
    baseline = scratch / "baseline"
    try:
        git("worktree", "add", "--detach", str(baseline), args.against)
        compare(args, baseline, scratch)
    except CompareError as exc:
        print(f"bench_report_compare: {exc}", file=sys.stderr)
        return 2
    finally:
        if baseline.exists():
            git("worktree", "remove", "--force", str(baseline))
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
