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


def plan_request(
    target: list[str] | None, budget: int | None, exclude: list[str] | None
) -> PlanRequest:
    """The plan options as the API parses them; a malformed one fails naming the problem."""
    from app.errors import AppError
    from app.reports.inputs import PlanRequest

    try:
        return PlanRequest.parse(target or [], budget, exclude or [])
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
