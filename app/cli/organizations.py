"""`smm org`: client organizations: create, list, roadmap settings."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.answers import files_registry
from app.cli.console import fail, money, out, problems
from app.cli.database import database, organization_of
from app.cli.options import (
    BudgetOption,
    BudgetScopeOption,
    ConcurrentOption,
    ExcludeOption,
    HourlyRateOption,
    StaffHoursOption,
    TargetOption,
    capacity_options,
    option_problems,
    organization_ids,
    plan_request,
)

if TYPE_CHECKING:
    from app.organizations.roadmap_settings import RoadmapSettingsRead

cli = typer.Typer(
    help="Client organizations: create, list, roadmap settings.", no_args_is_help=True
)


@cli.command("create")
def org_create(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    org_type: Annotated[
        str,
        typer.Option("--type", help="community_hospital, critical_access_hospital, ..."),
    ],
    beds: Annotated[int, typer.Option("--beds", help="Licensed beds (0-20000).")],
    state: Annotated[str, typer.Option(help="Two-letter US state or territory code.")],
) -> None:
    """Create a client organization; its id alone is on the last line.

    The fields are checked as `POST /v1/organizations` checks them.
    """
    from pydantic import ValidationError

    from app.auth.service import Principal
    from app.config import get_settings
    from app.organizations.schemas import OrganizationCreate
    from app.organizations.service import create_organization

    try:
        data = OrganizationCreate.model_validate(
            {"name": name, "type": org_type, "licensed_beds": beds, "state": state}
        )
    except ValidationError as exc:
        raise fail(option_problems(exc, {"licensed_beds": "--beds", "name": "NAME"})) from exc
    with database(get_settings()) as db:
        row = create_organization(db.session, Principal.system(), data)
        organization_id = row.id
        db.audit("organization.create", "organization", row.id, row.id)
    out.print(
        f"Created {data.name} ({data.type.value}, {data.licensed_beds} beds, {data.state}). "
        "Its id:",
        markup=False,
    )
    sys.stdout.flush()
    print(organization_id)


@cli.command("list")
def org_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List client organizations, oldest first: id, name, type, beds, state."""
    from rich.table import Table

    from app.auth.service import Principal
    from app.config import get_settings
    from app.organizations.service import list_organizations

    with database(get_settings()) as db:
        organizations, _ = list_organizations(db.session, Principal.system(), limit=None, offset=0)
        rows: list[dict[str, Any]] = [
            {
                "id": str(o.id),
                "name": o.name,
                "type": o.type,
                "licensed_beds": o.licensed_beds,
                "state": o.state,
                "created_at": o.created_at.isoformat(),
            }
            for o in organizations
        ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # whole, to be copied
    for column in ("name", "type", "beds", "state", "created"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["name"]),
            str(row["type"]),
            str(row["licensed_beds"]),
            str(row["state"]),
            str(row["created_at"])[:16].replace("T", " "),
        )
    out.print(table)


@cli.command("settings")
def org_settings(
    organization: Annotated[str, typer.Argument(help="The organization's id.")],
    target: TargetOption = None,
    budget: BudgetOption = None,
    exclude: ExcludeOption = None,
    staff_hours_per_month: StaffHoursOption = None,
    concurrent_actions: ConcurrentOption = None,
    hourly_rate: HourlyRateOption = None,
    budget_scope: BudgetScopeOption = None,
    notes: Annotated[str | None, typer.Option(help="Consultant's notes for the PDF.")] = None,
    notes_file: Annotated[
        Path | None,
        typer.Option(
            "--notes-file", exists=True, dir_okay=False, help="Read the notes from a file."
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Clear every setting first, then apply the others.")
    ] = False,
) -> None:
    """Show or change an organization's roadmap settings; prints them after any change.

    A --target changes that dimension's target only; --exclude replaces the exclusions;
    every other option given replaces that setting only (--clear resets them all).
    """
    from pydantic import ValidationError

    from app.auth.service import Principal
    from app.config import get_settings
    from app.organizations.roadmap_settings import (
        RoadmapSettingsRead,
        read_settings,
        replace_settings,
        settings_update,
    )

    if notes is not None and notes_file is not None:
        raise fail("give --notes or --notes-file, not both")
    if notes_file is not None:
        try:
            notes = notes_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read {notes_file}: {exc}") from exc
    request = plan_request(target, budget, exclude)
    capacity = capacity_options(
        staff_hours_per_month, concurrent_actions, hourly_rate, budget_scope
    )
    changing = (
        clear
        or bool(target)
        or budget is not None
        or bool(exclude)
        or notes is not None
        or bool(capacity)
    )
    organization_id = organization_ids([organization], given_as="ORGANIZATION")[0]
    settings = get_settings()
    registry = files_registry(settings)
    with database(settings, describe=problems) as db:
        row = organization_of(db, organization_id)
        current = read_settings(row)
        if changing:
            if clear:
                current = RoadmapSettingsRead(
                    targets={}, budget=None, excluded_services=[], notes=None
                )
            # Only what was given changes; a --target changes that dimension's only.
            changes: dict[str, Any] = {}
            if request.targets:
                changes["targets"] = {**current.targets, **request.targets}
            if budget is not None:
                changes["budget"] = budget
            if request.excluded_services:
                changes["excluded_services"] = list(request.excluded_services)
            if notes is not None:
                changes["notes"] = notes
            changes.update(capacity)
            try:
                changed = settings_update(current, **changes)
            except ValidationError as exc:
                found = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
                raise fail(found) from exc
            current = replace_settings(db.session, registry, Principal.system(), row, changed)
        name = row.name
    _print_settings(name, organization_id, current)


def _print_settings(name: str, organization_id: uuid.UUID, current: RoadmapSettingsRead) -> None:
    targets = ", ".join(f"{d}={level}" for d, level in current.targets.items())
    lines = [
        f"Roadmap settings of {name} ({organization_id}):",
        f"  targets: {targets or 'one level up in every dimension'}",
        f"  budget: {money(current.budget, 'USD') if current.budget is not None else 'none'}",
        f"  excluded services: {', '.join(current.excluded_services) or 'none'}",
        "  staff hours a month: "
        + (
            str(current.staff_hours_per_month)
            if current.staff_hours_per_month is not None
            else "default (from size and answers)"
        ),
        "  actions at once: "
        + (
            str(current.concurrent_actions)
            if current.concurrent_actions is not None
            else "default (by size)"
        ),
        "  hourly rate: "
        + (money(current.hourly_rate, "USD") if current.hourly_rate is not None else "none"),
        f"  budget caps: {current.budget_scope}",
        f"  notes: {current.notes if current.notes else 'none'}",
    ]
    for line in lines:
        out.print(line, markup=False)
