"""`smm report`: one answers file's roadmap report PDF, offline; or, with --all, every
organization's report from the database into a directory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.auth.roles import Role
from app.cli.answers import offline_inputs
from app.cli.console import err, fail, out, problems
from app.cli.database import database
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
    plan_request,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.auth.service import Principal
    from app.exports.bulk import FileOutcome
    from app.organizations.schemas import OrganizationCreate
    from app.reports.inputs import PlanRequest, ReportInputs


def report(
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Where to write the PDF (with --all: a directory)."),
    ],
    answers_file: Annotated[
        Path | None, typer.Argument(help="Answers as JSON (see examples/); not with --all.")
    ] = None,
    every_organization: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Render every organization's latest submitted assessment from the database.",
        ),
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            "--consultant",
            help="With --all: only the organizations this API key (prefix or id) may see.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="With --all: reports rendered at once (default SMM_RENDER_WORKERS: one per "
            "CPU); 1 renders one after another.",
        ),
    ] = None,
    beds: Annotated[
        int | None,
        typer.Option(min=0, max=20000, help="Licensed beds (sets the price band; default 100)."),
    ] = None,
    target: TargetOption = None,
    budget: BudgetOption = None,
    exclude: ExcludeOption = None,
    staff_hours_per_month: StaffHoursOption = None,
    concurrent_actions: ConcurrentOption = None,
    hourly_rate: HourlyRateOption = None,
    budget_scope: BudgetScopeOption = None,
    organization: Annotated[
        str | None, typer.Option(help="The organization's name (default: Your organization).")
    ] = None,
    org_type: Annotated[
        str | None, typer.Option("--type", help="community_hospital, ... (default: other).")
    ] = None,
    state: Annotated[str | None, typer.Option(help="Two-letter state code (default MN).")] = None,
    assessed_on: Annotated[
        str | None, typer.Option("--date", help="Assessment date (YYYY-MM-DD).")
    ] = None,
    include_narratives: Annotated[
        bool,
        typer.Option(
            "--include-narratives",
            help="Print free-text answers and comments (they may hold personal details; "
            "by default the appendix shows 'answered (not printed)').",
        ),
    ] = False,
) -> None:
    """Write the roadmap report PDF for an answers file, offline; or, with --all, every
    organization's report from the database into a directory."""
    if every_organization:
        if answers_file is not None:
            raise fail("give an answers file or --all, not both")
        # These describe one offline answers file; with --all each organization's own
        # details and roadmap settings come from the database.
        offline = {
            "--beds": beds,
            "--target": target,
            "--budget": budget,
            "--exclude": exclude,
            "--staff-hours-per-month": staff_hours_per_month,
            "--concurrent-actions": concurrent_actions,
            "--hourly-rate": hourly_rate,
            "--budget-scope": budget_scope,
            "--organization": organization,
            "--type": org_type,
            "--state": state,
            "--date": assessed_on,
            "--include-narratives": include_narratives or None,
        }
        if given := [name for name, value in offline.items() if value is not None]:
            raise fail(
                f"{', '.join(given)}: only for one answers file; with --all each "
                "organization's details and roadmap settings come from the database"
            )
        _report_all(output, key, workers)
        return
    if answers_file is None:
        raise fail(
            "give an answers file to report on, or --all to render every organization's "
            "report from the database"
        )
    if given := [name for name, value in {"--key": key, "--workers": workers}.items() if value]:
        raise fail(f"{', '.join(given)}: only with --all")
    capacity = capacity_options(
        staff_hours_per_month, concurrent_actions, hourly_rate, budget_scope
    )
    details = _organization_details(organization, org_type, beds, state)
    inputs = offline_inputs(
        answers_file,
        details.licensed_beds,
        details.name,
        details.type.value,
        details.state,
        assessed_on,
    )
    request = replace(
        plan_request(target, budget, exclude, capacity), include_narratives=include_narratives
    )
    _report_file(output, inputs, request)


def _organization_details(
    name: str | None, org_type: str | None, beds: int | None, state: str | None
) -> OrganizationCreate:
    """The organization an offline report is for, checked as the API checks organizations."""
    from pydantic import ValidationError

    from app.organizations.schemas import OrganizationCreate

    try:
        return OrganizationCreate.model_validate(
            {
                "name": name or "Your organization",
                "type": org_type or "other",
                "licensed_beds": 100 if beds is None else beds,
                "state": state or "MN",
            }
        )
    except ValidationError as exc:
        raise fail(
            option_problems(exc, {"name": "--organization", "licensed_beds": "--beds"})
        ) from exc


def _report_file(output: Path, inputs: ReportInputs, request: PlanRequest) -> None:
    """Render one report in this process and write it."""
    from app.errors import AppError
    from app.reports.service import InProcessRenderer, render_report

    try:
        pdf = render_report(inputs, request, InProcessRenderer()).pdf
    except AppError as exc:
        raise fail(problems(exc)) from exc
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror}") from exc
    out.print(f"Wrote {output} ({len(pdf) // 1024} KiB).")


def _report_all(directory: Path, key: str | None, workers: int | None) -> None:
    """Render every organization's (or one key's organizations') latest report into a
    directory, ``workers`` at once, with their progress, then a summary; exit code 1 if
    any failed, 130 if stopped (Ctrl-C, SIGTERM) before the end."""
    from contextlib import closing

    from app.auth.service import Principal
    from app.cli.progress import report_progress
    from app.config import get_settings
    from app.db import transaction
    from app.exports.bulk import Result, render_all
    from app.exports.service import latest_submitted

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create the directory {directory}: {exc.strerror}") from exc
    if not directory.is_dir():
        raise fail(f"{directory} is not a directory; with --all, -o names one")
    settings = get_settings()
    # The selection is read in one transaction; each render then has transactions of its own.
    with database(settings, questionnaires=True, transaction=False) as db:
        with transaction(db.sessions) as session:
            principal = _principal(session, key) if key else Principal.system()
            selection = latest_submitted(session, principal)
        outcomes: list[FileOutcome] = []
        renders = sum(item.assessment_id is not None for item in selection)
        progress = report_progress(err, renders)
        results = render_all(
            db.sessions,
            db.registry,
            settings,
            selection,
            directory,
            workers or settings.render_workers,
            started=lambda item: progress.started(item.organization_name),
        )
        try:
            # Closing the generator (on Ctrl-C too) stops the renders still running.
            with _stopped_by_sigterm(), progress, closing(results):
                for outcome in results:
                    outcomes.append(outcome)
                    if outcome.result is not Result.SKIPPED:
                        progress.finished(outcome)
        except KeyboardInterrupt:
            written = sum(o.result in (Result.RENDERED, Result.CACHED) for o in outcomes)
            err.print(
                f"Stopped: {written} of {renders} reports written to {directory}; "
                "nothing half-written is left."
            )
            raise typer.Exit(130) from None
    _print_summary(outcomes)
    if any(o.result is Result.FAILED for o in outcomes):
        raise typer.Exit(1)


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM stops the run as Ctrl-C does (renders killed, nothing half-written)."""
    import signal

    def interrupt(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _principal(session: Session, reference: str) -> Principal:
    """The scope of an API key given by prefix, id or token; a revoked key is refused."""
    from app.auth.service import Principal, find_key

    api_key = find_key(session, reference)
    if api_key.revoked_at is not None:
        raise fail(f"the API key {api_key.prefix} is revoked")
    return Principal(key_id=api_key.id, role=Role(api_key.role))


def _print_summary(outcomes: list[FileOutcome]) -> None:
    from rich.table import Table
    from rich.text import Text

    from app.exports.bulk import Result

    order = {Result.FAILED: 0, Result.SKIPPED: 1, Result.RENDERED: 2, Result.CACHED: 3}
    table = Table(title="Roadmap reports")
    for column in ("Organization", "Result", "File or reason"):
        table.add_column(column, overflow="fold")
    for outcome in sorted(
        outcomes, key=lambda o: (order[o.result], o.organization_name.casefold())
    ):
        detail = outcome.file.name if outcome.file else outcome.reason or ""
        style = {Result.FAILED: "red", Result.SKIPPED: "yellow"}.get(outcome.result)
        # Names and reasons are data: Text, so that "[b]" in a name is not read as markup.
        cells = (Text(outcome.organization_name), Text(outcome.result.value), Text(detail))
        table.add_row(*cells, style=style)
    out.print(table)
    counts = {result: sum(o.result is result for o in outcomes) for result in Result}
    out.print(
        f"{counts[Result.RENDERED]} rendered, {counts[Result.CACHED]} from cache, "
        f"{counts[Result.FAILED]} failed, {counts[Result.SKIPPED]} skipped."
    )
