"""Options several commands share, and turning what was typed into checked values."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.console import fail, problems

if TYPE_CHECKING:
    from app.reports.inputs import PlanRequest

TargetOption = Annotated[
    list[str] | None, typer.Option("--target", help="dimension=level, e.g. security=4 (repeat).")
]
BudgetOption = Annotated[
    int | None, typer.Option("--budget", min=0, help="The most the plan may cost.")
]
ExcludeOption = Annotated[
    list[str] | None, typer.Option("--exclude", help="A service id the plan must not use (repeat).")
]

StaffHoursOption = Annotated[
    int | None,
    typer.Option(
        "--staff-hours-per-month",
        help="Staff hours a month for the program (1-10000; default: from size and answers).",
    ),
]
ConcurrentOption = Annotated[
    int | None,
    typer.Option("--concurrent-actions", help="Most actions run at once (1-20; default: by size)."),
]
HourlyRateOption = Annotated[
    int | None,
    typer.Option("--hourly-rate", help="Cost of an internal staff hour (0-10000; default: none)."),
]
BudgetScopeOption = Annotated[
    str | None,
    typer.Option(
        "--budget-scope",
        help="What --budget caps: center_fees (the default) or everything.",
    ),
]

CAPACITY_OPTIONS = {
    "staff_hours_per_month": "--staff-hours-per-month",
    "concurrent_actions": "--concurrent-actions",
    "hourly_rate": "--hourly-rate",
    "budget_scope": "--budget-scope",
}


def capacity_options(
    staff_hours_per_month: int | None,
    concurrent_actions: int | None,
    hourly_rate: int | None,
    budget_scope: str | None,
) -> dict[str, int | str]:
    """The capacity options given, checked as the roadmap settings check them.

    Only those typed are returned; a value out of range fails naming its option.
    """
    from pydantic import ValidationError

    from app.organizations.roadmap_settings import RoadmapSettingsUpdate

    given: dict[str, int | str] = {
        name: value
        for name, value in {
            "staff_hours_per_month": staff_hours_per_month,
            "concurrent_actions": concurrent_actions,
            "hourly_rate": hourly_rate,
            "budget_scope": budget_scope,
        }.items()
        if value is not None
    }
    try:
        RoadmapSettingsUpdate.model_validate(given)
    except ValidationError as exc:
        raise fail(option_problems(exc, CAPACITY_OPTIONS)) from exc
    return given


def plan_request(
    target: list[str] | None,
    budget: int | None,
    exclude: list[str] | None,
    capacity: dict[str, int | str] | None = None,
) -> PlanRequest:
    """The plan options as the API parses them; a malformed one fails naming the problem.

    ``capacity`` holds the checked capacity options (``capacity_options``).
    """
    from app.errors import AppError
    from app.reports.inputs import PlanRequest

    try:
        return PlanRequest.parse(
            target or [], budget, exclude or [], include_narratives=False, **(capacity or {})
        )
    except AppError as exc:
        raise fail(problems(exc)) from exc


def organization_ids(values: list[str], given_as: str = "--org") -> list[uuid.UUID]:
    """Organization ids from the command line; ``given_as`` names the option or argument."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError as exc:
            raise fail(
                f"{given_as} {value!r} is not an organization id (a UUID); "
                "`smm org list` shows them"
            ) from exc
    return ids


def option_problems(exc: Exception, names: dict[str, str]) -> str:
    """A validation error's problems, each named by the option the user typed."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    found = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        option = names.get(field, f"--{field.replace('_', '-')}")
        found.append(f"{option}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(found)
