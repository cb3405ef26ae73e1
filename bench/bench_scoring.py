"""Microseconds per call to parse, validate and score one complete assessment.

    .venv/bin/python bench/bench_scoring.py [--repetitions N] [--warmup N]

For each example in examples/, against the questionnaire version it answers:

- parse:            the request body as FastAPI handles it (json.loads, then
                    AssessmentCreate validation); model_validate_json is shown for comparison
- validate+score:   check_answers(definition, items, submitting=True), then score_answers
- score:            score_answers(definition, answers) alone
- score+to_dict:    score_answers(...).to_dict(), the form the service stores (no goal)

Each call is timed on its own after a warm-up: the wall-clock median and 95th percentile
(goals are judged on the median), then, in a second pass, the median CPU time of the
thread, which is steadier on a machine shared with other work. Garbage collection stays
on, as in the service.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchlib import (
    EXAMPLES,
    PLACEHOLDER_ORGANIZATION,
    ROOT,
    Timing,
    against_goal,
    code_note,
    machine_note,
    print_table,
    request_body,
    time_calls,
)

from app.intake.schemas import AssessmentCreate
from app.intake.validation import check_answers
from app.questionnaire.loader import load_directory
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import QuestionnaireDefinition
from app.scoring.engine import score_answers

VALIDATE_AND_SCORE_GOAL_US = 100.0
SCORE_GOAL_US = 30.0


@dataclass(frozen=True, slots=True)
class Case:
    """One named call to time, and the goal for its median (None: no goal)."""

    name: str
    call: Callable[[], object]
    goal_us: float | None


def load_registry() -> QuestionnaireRegistry:
    """The questionnaires on disk, exactly as the service loads them."""
    return QuestionnaireRegistry.of(load_directory(ROOT / "questionnaires"))


@dataclass(frozen=True, slots=True)
class Prepared:
    """One example, parsed and checked once, ready for the timed calls."""

    body: bytes
    parsed: AssessmentCreate
    definition: QuestionnaireDefinition
    values: dict[str, Any]  # checked answers: question id -> value or NA


def prepare(example: str, registry: QuestionnaireRegistry) -> Prepared:
    """Parse and check an example against the questionnaire version it answers."""
    body = request_body(example, PLACEHOLDER_ORGANIZATION)
    parsed = AssessmentCreate.model_validate(json.loads(body))
    definition = registry.get(parsed.questionnaire.id, parsed.questionnaire.version).definition
    checked = check_answers(definition, parsed.answers, submitting=True)
    return Prepared(body, parsed, definition, {qid: a.value for qid, a in checked.items()})


def cases_for(prepared: Prepared) -> list[Case]:
    """The calls to time for one example."""
    body, definition, items, values = (
        prepared.body,
        prepared.definition,
        prepared.parsed.answers,
        prepared.values,
    )

    def validate_and_score() -> object:
        answers = check_answers(definition, items, submitting=True)
        return score_answers(definition, {qid: a.value for qid, a in answers.items()})

    return [
        Case("parse (json.loads + validate)", lambda: _parse_like_fastapi(body), None),
        Case(
            "parse (model_validate_json)", lambda: AssessmentCreate.model_validate_json(body), None
        ),
        Case("validate+score", validate_and_score, VALIDATE_AND_SCORE_GOAL_US),
        Case("score", lambda: score_answers(definition, values), SCORE_GOAL_US),
        Case("score+to_dict", lambda: score_answers(definition, values).to_dict(), None),
    ]


def _parse_like_fastapi(body: bytes) -> AssessmentCreate:
    # FastAPI reads the body with json.loads, then validates the Python objects.
    return AssessmentCreate.model_validate(json.loads(body))


def describe(example: str, prepared: Prepared) -> str:
    """What the example scores, so a reader sees the benchmark did real work."""
    definition = prepared.definition
    result = score_answers(definition, prepared.values)
    gates = sum(len(d.failed_gates) for d in result.dimensions)
    return (
        f"{example}: {len(prepared.parsed.answers)} answers to {definition.id} "
        f"v{definition.version} ({len(definition.questions)} questions); levels "
        f"{result.levels}, overall {result.overall_level}, {gates} failed gates"
    )


def row(example: str, case: Case, timing: Timing) -> list[str]:
    """A table row: figures, goal and verdict."""
    goal = "-" if case.goal_us is None else f"< {case.goal_us:g}"
    verdict = "" if case.goal_us is None else against_goal(timing.median_us, case.goal_us)
    return [
        example,
        case.name,
        f"{timing.median_us:.1f}",
        f"{timing.p95_us:.1f}",
        f"{timing.cpu_median_us:.1f}",
        goal,
        verdict,
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5000, help="timed calls per case")
    parser.add_argument("--warmup", type=int, default=500, help="untimed calls first")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    registry = load_registry()
    print(f"bench_scoring: {machine_note()}")
    print(f"code: {code_note()}")
    print(f"{args.repetitions} timed calls per case after {args.warmup} warm-up calls\n")
    rows = []
    for example in EXAMPLES:
        prepared = prepare(example, registry)
        print(describe(example, prepared))
        for case in cases_for(prepared):
            timing = time_calls(case.call, repetitions=args.repetitions, warmup=args.warmup)
            rows.append(row(example, case, timing))
    print()
    print_table(
        ["example", "measure", "median us", "p95 us", "CPU median us", "goal us", "verdict"], rows
    )


if __name__ == "__main__":
    main()
