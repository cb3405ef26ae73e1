"""Milliseconds per call to plan a roadmap with the full v1 action catalogue.

    .venv/bin/python bench/bench_planner.py [--repetitions N] [--warmup N]

For each example in examples/ (community-hospital at 60 licensed beds, academic-medical-center
at 900, as in tests/roadmap/test_planner.py), against the definition and catalogue that
load_directory(questionnaires/) returns first:

- default targets:  PlanOptions(licensed_beds), one level up in every dimension
- targets 5:        every dimension's target is level 5 (the longest ladders)
- budget:           targets 5 with a budget of half what the unconstrained targets-5 plan
                    costs, so the budget binds and every combination of levels is weighed

Every timed call is a fresh plan_roadmap(...) (the planner keeps its caches per call, so
nothing carries over between calls). Each call is timed on its own after a warm-up: the
wall-clock median and 95th percentile (the goal is judged on the median), then, in a second
pass, the median CPU time of the thread. A calibration figure (a bare 1000-step Python
loop) is printed so the figures can be scaled to another machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

from benchlib import (
    EXAMPLES,
    ROOT,
    Timing,
    against_goal,
    code_note,
    example_document,
    machine_note,
    print_table,
    time_calls,
)

from app.questionnaire.answers import NA, AnswerValue
from app.questionnaire.catalogue import Catalogue
from app.questionnaire.loader import load_directory
from app.questionnaire.schemas import QuestionnaireDefinition
from app.roadmap import planner
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.roadmap.results import Roadmap
from app.scoring.engine import dimension_levels

PLAN_GOAL_MS = 5.0
LICENSED_BEDS = {"community-hospital": 60, "academic-medical-center": 900}
CALIBRATION_STEPS = 1000


@dataclass(frozen=True, slots=True)
class Case:
    """One example with one set of plan options."""

    example: str
    name: str
    answers: dict[str, AnswerValue]
    options: PlanOptions


def answers_of(example: str) -> dict[str, AnswerValue]:
    """An example's answers as the service reads them back: question id -> value or NA."""
    return {
        a["question_id"]: NA if a.get("na") else a.get("value")
        for a in example_document(example)["answers"]
    }


def cases_for(
    example: str, definition: QuestionnaireDefinition, catalogue: Catalogue
) -> list[Case]:
    """The three option sets for one example (the budget depends on the targets-5 cost)."""
    answers = answers_of(example)
    beds = LICENSED_BEDS[example]
    top = {d.id: 5 for d in definition.dimensions}
    full_cost = plan_roadmap(definition, catalogue, answers, PlanOptions(beds, top)).total_cost
    budget = full_cost // 2
    return [
        Case(example, "default targets", answers, PlanOptions(beds)),
        Case(example, "targets 5", answers, PlanOptions(beds, top)),
        Case(example, f"targets 5, budget {budget:,}", answers, PlanOptions(beds, top, budget)),
    ]


def describe(case: Case, definition: QuestionnaireDefinition, catalogue: Catalogue) -> str:
    """What one plan does, so a reader sees the benchmark did real work.

    The number of answer sets the planner scored is counted by wrapping the scoring
    function it calls (once, outside the timed calls).
    """
    wrapped = mock.patch.object(planner, "dimension_levels", wraps=dimension_levels)
    with wrapped as counter:
        roadmap: Roadmap = plan_roadmap(definition, catalogue, case.answers, case.options)
    actions = sum(len(p.actions) for p in roadmap.phases)
    levels = "/".join(
        f"{c.level}->{p.level}" for c, p in zip(roadmap.current, roadmap.projected, strict=True)
    )
    return (
        f"{case.example}, {case.name}: {roadmap.size_band} band, levels {levels}, "
        f"{actions} actions, {roadmap.currency} {roadmap.total_cost:,}, "
        f"{len(roadmap.unreachable)} unreachable; {counter.call_count} answer sets scored"
    )


def calibration_us(rounds: int = 2000) -> float:
    """Median microseconds for a bare ``for i in range(1000): x = i * 2``."""

    def loop() -> None:
        for i in range(CALIBRATION_STEPS):
            x = i * 2  # noqa: F841 - the work being timed

    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        loop()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples)


def row(case: Case, timing: Timing) -> list[str]:
    """A table row in milliseconds, with the goal and the verdict."""
    median_ms = timing.median_us / 1000
    return [
        case.example,
        case.name,
        f"{median_ms:.2f}",
        f"{timing.p95_us / 1000:.2f}",
        f"{timing.cpu_median_us / 1000:.2f}",
        f"< {PLAN_GOAL_MS:g}",
        against_goal(median_ms, PLAN_GOAL_MS),
    ]


def plan_call(
    definition: QuestionnaireDefinition, catalogue: Catalogue, case: Case
) -> Callable[[], object]:
    return lambda: plan_roadmap(definition, catalogue, case.answers, case.options)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=100, help="timed calls per case")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls first")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    loaded = load_directory(ROOT / "questionnaires")[0]
    definition, catalogue = loaded.definition, loaded.catalogue
    if catalogue is None:
        raise SystemExit(f"bench_planner: no action catalogue beside {loaded.source}")
    print(f"bench_planner: {machine_note()}")
    print(f"code: {code_note()}")
    print(
        f"{definition.id} v{definition.version}: {len(definition.questions)} questions, "
        f"{len(catalogue.actions)} actions, {len(catalogue.services)} services"
    )
    calibration = calibration_us()
    print(
        f"calibration: a bare {CALIBRATION_STEPS}-step Python loop takes {calibration:.1f} us "
        "(median); scale the figures below by your machine's figure over this one"
    )
    print(f"{args.repetitions} timed calls per case after {args.warmup} warm-up calls\n")
    rows = []
    for example in EXAMPLES:
        for case in cases_for(example, definition, catalogue):
            print(describe(case, definition, catalogue))
            timing = time_calls(
                plan_call(definition, catalogue, case),
                repetitions=args.repetitions,
                warmup=args.warmup,
            )
            rows.append(row(case, timing))
    print()
    print_table(
        ["example", "options", "median ms", "p95 ms", "CPU median ms", "goal ms", "verdict"], rows
    )
    print(f"\ncalibration after the run: {calibration_us():.1f} us per 1000-step loop")


if __name__ == "__main__":
    main()
