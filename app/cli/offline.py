"""`smm score` and `smm roadmap`: an answers file scored or planned offline, as a table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.answers import identifier_warnings_of, offline_inputs, score_file
from app.cli.console import err, fail, money, out, problems
from app.cli.options import (
    BudgetOption,
    BudgetScopeOption,
    ConcurrentOption,
    ExcludeOption,
    HourlyRateOption,
    StaffHoursOption,
    TargetOption,
    capacity_options,
    plan_request,
)

if TYPE_CHECKING:
    from app.roadmap.results import Capacity, CostBreakdown, Roadmap

Beds = Annotated[
    int, typer.Option("--beds", min=0, max=20000, help="Licensed beds (sets the price band).")
]


def score(
    answers_file: Annotated[Path, typer.Argument(help="Answers as JSON (see examples/).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Score an answers file offline and print each dimension's score, level and reasons."""
    from rich.table import Table

    from app.config import get_settings

    settings = get_settings()
    result = score_file(answers_file, settings)
    # Warnings go to stderr, so that --json output stays a document.
    for warning in identifier_warnings_of(answers_file, settings):
        err.print(f"Warning: {warning.field}: {warning.message}")
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    table = Table(
        title=f"{result.questionnaire_id} v{result.questionnaire_version}", show_lines=True
    )
    table.add_column("Dimension", style="bold")
    table.add_column("Score", justify="right")
    table.add_column("Level")
    table.add_column("Why, and what the next level needs", overflow="fold")
    for d in result.dimensions:
        why = d.summary + (f"\n{d.next_level.summary}" if d.next_level else "")
        table.add_row(d.title, f"{d.score:.1f}", f"{d.level} {d.level_name}", why)
    out.print(table)
    status = "complete" if result.complete else "incomplete (draft)"
    out.print(
        f"Overall: level {result.overall_level} ({result.overall_level_name}), "
        f"score {result.overall_score:.1f}; answers {status}."
    )


def roadmap(
    answers_file: Annotated[Path, typer.Argument(help="Answers as JSON (see examples/).")],
    beds: Beds = 100,
    target: TargetOption = None,
    budget: BudgetOption = None,
    exclude: ExcludeOption = None,
    staff_hours_per_month: StaffHoursOption = None,
    concurrent_actions: ConcurrentOption = None,
    hourly_rate: HourlyRateOption = None,
    budget_scope: BudgetScopeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full plan as JSON.")] = False,
) -> None:
    """Plan the roadmap for an answers file offline and print it as a table."""
    from rich.table import Table

    from app.errors import AppError
    from app.reports.inputs import plan

    capacity = capacity_options(
        staff_hours_per_month, concurrent_actions, hourly_rate, budget_scope
    )
    request = plan_request(target, budget, exclude, capacity)
    inputs = offline_inputs(answers_file, beds, "Your organization", "other", "MN", None)
    try:
        result = plan(inputs, request)
    except AppError as exc:
        raise fail(problems(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    currency = result.currency
    by_month = result.by_month
    table = Table(title=f"Roadmap for {result.size_band_label}", show_lines=True)
    for column in ("Phase", "Months" if by_month else "Weeks", "Action", "Services", "Cost"):
        table.add_column(column, overflow="fold", justify="right" if column == "Cost" else "left")
    for phase in result.phases:
        for action in phase.actions:
            services = "\n".join(
                f"{line.title} ({money(line.price, currency)})"
                if line.charged
                else f"{line.title} (in plan)"
                for line in action.services
            )
            when = (
                f"{action.start_month}-{action.end_month}"
                if by_month
                else f"{action.start_week + 1}-{action.end_week}"
            )
            table.add_row(phase.title, when, action.title, services, money(action.cost, currency))
    out.print(table)
    levels = ", ".join(
        f"{c.title} {c.level} -> {p.level}"
        for c, p in zip(result.current, result.projected, strict=True)
    )
    total = money(result.total_cost, currency)
    out.print(f"Total {total} over {result.length}; levels: {levels}.")
    if result.costs is not None and result.capacity is not None:
        out.print(_plan_facts(result, result.costs, result.capacity), markup=False)
    for unreachable in result.unreachable:
        out.print(f"Not reached: {unreachable.reason}")


def _plan_facts(result: Roadmap, costs: CostBreakdown, capacity: Capacity) -> str:
    """One line: the schedule's length and limits, its staff hours, each year's cost."""
    currency = result.currency
    limit = (
        f"{capacity.staff_hours_per_month:g} staff hours a month, "
        if capacity.staff_hours_per_month is not None
        else ""
    )
    return (
        f"{result.total_months} months ({limit}{capacity.concurrent_actions} actions at once); "
        f"{costs.staff_hours:g} staff hours; year 1 {money(costs.year1.total, currency)}, "
        f"year 2 {money(costs.year2.total, currency)}."
    )
