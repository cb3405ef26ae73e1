"""The `smm` command: serve, score offline, manage API keys, check questionnaires."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from app import __version__
from app.auth.roles import Role

# Only what every command's options need is imported here; the rest inside the commands,
# so that `smm --help` answers at once instead of after loading WeasyPrint and SQLAlchemy.
if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from app.auth.service import Principal
    from app.config import Settings
    from app.errors import AppError
    from app.exports.bulk import FileOutcome
    from app.intake.identifiers import IdentifierWarning
    from app.intake.schemas import AnswersFile
    from app.intake.validation import Answer
    from app.organizations.roadmap_settings import RoadmapSettingsRead
    from app.organizations.schemas import OrganizationCreate
    from app.questionnaire.loader import LoadedDefinition
    from app.questionnaire.registry import QuestionnaireRegistry
    from app.reports.inputs import PlanRequest, ReportInputs
    from app.scoring import AssessmentScore

cli = typer.Typer(
    help="smm-assess: social-media maturity assessment for hospitals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_cli = typer.Typer(help="Create, list, grant and revoke API keys.", no_args_is_help=True)
questionnaires_cli = typer.Typer(help="Questionnaire definitions.", no_args_is_help=True)
org_cli = typer.Typer(
    help="Client organizations: create, list, roadmap settings.", no_args_is_help=True
)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(questionnaires_cli, name="questionnaires")
cli.add_typer(org_cli, name="org")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        out.print(f"smm-assess {__version__}")
        raise typer.Exit()


@cli.callback()
def _main(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """smm-assess: social-media maturity assessment for hospitals."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    """A migrated engine for the configured database."""
    from app.db import make_engine
    from app.migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


def _published(
    settings: Settings, engine: Engine, check: Callable[[], None] | None = None
) -> QuestionnaireRegistry:
    """Publish and load the questionnaires (after ``check``), then release the engine."""
    from app.main import load_registry
    from app.questionnaire.loader import DefinitionError
    from app.questionnaire.registry import PublishedVersionChanged

    try:
        if check is not None:
            check()
        return load_registry(settings, engine)
    except (DefinitionError, PublishedVersionChanged) as exc:
        raise _fail(f"questionnaires cannot be served:\n{exc}") from exc
    finally:
        engine.dispose()


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default SMM_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SMM_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default SMM_WORKERS).")
    ] = None,
) -> None:
    """Apply migrations, load and verify questionnaires, and start the API server.

    With SMM_MIGRATE_ON_START=false the database must already be migrated (`smm migrate`).
    """
    import uvicorn

    from app.config import get_settings
    from app.db import database_role_warning, make_engine
    from app.observability.logs import configure_logging, logging_config

    settings = get_settings()
    configure_logging(settings)
    if settings.migrate_on_start:
        engine = _database(settings)
    else:
        engine = make_engine(settings.database_url)
    check = None if settings.migrate_on_start else lambda: _require_migrated(engine)
    registry = _published(settings, engine, check)
    versions = ", ".join(f"{d.definition.id} v{d.definition.version}" for d in registry.latest())
    migrated = "migrated" if settings.migrate_on_start else "at the latest migration"
    logging.getLogger("smm").info("Database %s; questionnaires verified: %s", migrated, versions)
    if warning := database_role_warning(engine):
        logging.getLogger("smm").warning(warning)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level,
        log_config=logging_config(settings),
        # X-Forwarded-For/-Proto only from the proxies listed: uvicorn would otherwise
        # believe any local process (its default trusts 127.0.0.1).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


def _require_migrated(engine) -> None:  # type: ignore[no-untyped-def]
    """Fail, naming the fix, when the database is behind the code's migrations."""
    from app.migrate import pending_migrations

    pending = pending_migrations(engine)
    if pending:
        raise _fail(
            f"the database is not migrated ({len(pending)} pending: {', '.join(pending)}); "
            "run `smm migrate` first, or unset SMM_MIGRATE_ON_START=false"
        )


@cli.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=32, help="Reports rendered at once by this worker.")
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Serve Prometheus metrics on this port."),
    ] = None,
) -> None:
    """Render report jobs from the PostgreSQL queue until stopped (SIGINT or SIGTERM)."""
    from app.config import get_settings
    from app.db import make_engine
    from app.jobs import worker as render_worker
    from app.observability.logs import configure_logging

    settings = get_settings()
    if settings.is_sqlite:
        raise _fail("`smm worker` needs PostgreSQL (SMM_DATABASE_URL=postgresql://...)")
    configure_logging(settings)
    registry = _published(settings, make_engine(settings.database_url))
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)
    render_worker.run(settings, registry, concurrency)


@cli.command()
def migrate() -> None:
    """Apply database migrations, publish new questionnaire versions, and exit."""
    from app.config import get_settings

    settings = get_settings()
    registry = _published(settings, _database(settings))
    out.print("Database is at the latest migration.")
    out.print(f"Questionnaire versions published: {len(registry)}.")


def _registry(settings: Settings) -> QuestionnaireRegistry:
    from app.questionnaire.loader import DefinitionError, load_directory
    from app.questionnaire.registry import QuestionnaireRegistry

    try:
        return QuestionnaireRegistry.of(load_directory(settings.questionnaires_dir))
    except DefinitionError as exc:
        raise _fail(f"questionnaires are invalid:\n{exc}") from exc


def _read_answers_file(path: Path) -> AnswersFile:
    from pydantic import ValidationError

    from app.intake.schemas import AnswersFile

    try:
        return AnswersFile.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        lines = []
        for e in exc.errors(include_url=False):
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
            lines.append(f"  {loc or '(file)'}: {e['msg']}")
        raise _fail(f"{path} is not an answers file:\n" + "\n".join(lines)) from exc


def _checked_file(path: Path, settings: Settings) -> tuple[LoadedDefinition, dict[str, Answer]]:
    """An answers file checked against the questionnaire version it names."""
    from app.errors import AppError, InvalidAnswers
    from app.intake.validation import check_answers

    document = _read_answers_file(path)
    registry = _registry(settings)
    try:
        loaded = registry.get(document.questionnaire.id, document.questionnaire.version)
        answers = check_answers(
            loaded.definition, document.answers, submitting=document.status == "submitted"
        )
    except InvalidAnswers as exc:
        problems = "\n".join(f"  {e['field']}: {e['message']}" for e in exc.extra["errors"])
        raise _fail(f"{path}: {exc.detail}\n{problems}") from exc
    except AppError as exc:
        raise _fail(f"{path}: {exc.detail}") from exc
    return loaded, answers


def identifier_warnings_of(path: Path, settings: Settings) -> list[IdentifierWarning]:
    """Comments and free-text answers in an answers file that look like identifiers."""
    from app.intake.identifiers import identifier_warnings

    document = _read_answers_file(path)
    loaded = _registry(settings).get(document.questionnaire.id, document.questionnaire.version)
    return identifier_warnings(loaded.definition, document.answers)


def score_file(path: Path, settings: Settings) -> AssessmentScore:
    """Check and score an answers file against the questionnaires on disk."""
    from app.scoring import score_answers

    loaded, answers = _checked_file(path, settings)
    return score_answers(loaded.definition, {qid: a.value for qid, a in answers.items()})


@cli.command()
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


Beds = Annotated[
    int, typer.Option("--beds", min=0, max=20000, help="Licensed beds (sets the price band).")
]
TargetOption = Annotated[
    list[str] | None, typer.Option("--target", help="dimension=level, e.g. security=4 (repeat).")
]
BudgetOption = Annotated[
    int | None, typer.Option("--budget", min=0, help="The most the plan may cost.")
]
ExcludeOption = Annotated[
    list[str] | None, typer.Option("--exclude", help="A service id the plan must not use (repeat).")
]


def _offline_inputs(
    path: Path, beds: int, name: str, org_type: str, state: str, assessed_on: str | None
) -> ReportInputs:
    from datetime import date

    from app.config import get_settings
    from app.reports.inputs import ReportInputs
    from app.reports.view import OrganizationInfo

    loaded, answers = _checked_file(path, get_settings())
    if loaded.catalogue is None or loaded.catalogue_hash is None:
        raise _fail(f"there is no action catalogue beside {loaded.source}")
    try:
        day = date.fromisoformat(assessed_on) if assessed_on else date.today()
    except ValueError as exc:
        raise _fail(f"--date {assessed_on!r} is not a date like 2026-03-31") from exc
    return ReportInputs(
        definition=loaded.definition,
        definition_hash=loaded.content_hash,
        catalogue=loaded.catalogue,
        catalogue_hash=loaded.catalogue_hash,
        answers={qid: a.value for qid, a in answers.items()},
        comments={qid: a.comment for qid, a in answers.items() if a.comment},
        organization=OrganizationInfo(name=name, type=org_type, licensed_beds=beds, state=state),
        assessed_on=day,
    )


def _plan_request(
    target: list[str] | None, budget: int | None, exclude: list[str] | None
) -> PlanRequest:
    from app.errors import AppError
    from app.reports.inputs import PlanRequest

    try:
        return PlanRequest.parse(target or [], budget, exclude or [])
    except AppError as exc:
        raise _fail(_problems(exc)) from exc


def _problems(exc: AppError) -> str:
    """An error's field problems in one line, or its sentence when it has none."""
    return "; ".join(e["message"] for e in exc.extra.get("errors", [])) or exc.detail


def _money(amount: int, currency: str) -> str:
    return f"${amount:,}" if currency == "USD" else f"{amount:,} {currency}"


@cli.command()
def roadmap(
    answers_file: Annotated[Path, typer.Argument(help="Answers as JSON (see examples/).")],
    beds: Beds = 100,
    target: TargetOption = None,
    budget: BudgetOption = None,
    exclude: ExcludeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full plan as JSON.")] = False,
) -> None:
    """Plan the roadmap for an answers file offline and print it as a table."""
    from rich.table import Table

    from app.errors import AppError
    from app.reports.inputs import plan

    inputs = _offline_inputs(answers_file, beds, "Your organization", "other", "MN", None)
    try:
        result = plan(inputs, _plan_request(target, budget, exclude))
    except AppError as exc:
        raise _fail(_problems(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    money = result.currency
    table = Table(title=f"Roadmap for {result.size_band_label}", show_lines=True)
    for column in ("Phase", "Weeks", "Action", "Services", "Cost"):
        table.add_column(column, overflow="fold", justify="right" if column == "Cost" else "left")
    for phase in result.phases:
        for action in phase.actions:
            services = "\n".join(
                f"{line.title} ({_money(line.price, money)})"
                if line.charged
                else f"{line.title} (in plan)"
                for line in action.services
            )
            weeks = f"{action.start_week + 1}-{action.end_week}"
            table.add_row(phase.title, weeks, action.title, services, _money(action.cost, money))
    out.print(table)
    levels = ", ".join(
        f"{c.title} {c.level} -> {p.level}"
        for c, p in zip(result.current, result.projected, strict=True)
    )
    total = _money(result.total_cost, money)
    out.print(f"Total {total} over {result.total_weeks} weeks; levels: {levels}.")
    for unreachable in result.unreachable:
        out.print(f"Not reached: {unreachable.reason}")


@cli.command()
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
        int | None, typer.Option(min=1, max=16, help="With --all: reports rendered at once (1).")
    ] = None,
    beds: Annotated[
        int | None,
        typer.Option(min=0, max=20000, help="Licensed beds (sets the price band; default 100)."),
    ] = None,
    target: TargetOption = None,
    budget: BudgetOption = None,
    exclude: ExcludeOption = None,
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
            raise _fail("give an answers file or --all, not both")
        # These describe one offline answers file; with --all each organization's own
        # details and roadmap settings come from the database.
        offline = {
            "--beds": beds,
            "--target": target,
            "--budget": budget,
            "--exclude": exclude,
            "--organization": organization,
            "--type": org_type,
            "--state": state,
            "--date": assessed_on,
            "--include-narratives": include_narratives or None,
        }
        if given := [name for name, value in offline.items() if value is not None]:
            raise _fail(
                f"{', '.join(given)}: only for one answers file; with --all each "
                "organization's details and roadmap settings come from the database"
            )
        _report_all(output, key, workers or 1)
        return
    if answers_file is None:
        raise _fail(
            "give an answers file to report on, or --all to render every organization's "
            "report from the database"
        )
    if given := [name for name, value in {"--key": key, "--workers": workers}.items() if value]:
        raise _fail(f"{', '.join(given)}: only with --all")
    details = _organization_details(organization, org_type, beds, state)
    inputs = _offline_inputs(
        answers_file,
        details.licensed_beds,
        details.name,
        details.type.value,
        details.state,
        assessed_on,
    )
    request = replace(_plan_request(target, budget, exclude), include_narratives=include_narratives)
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
        raise _fail(
            _option_problems(exc, {"name": "--organization", "licensed_beds": "--beds"})
        ) from exc


def _report_file(output: Path, inputs: ReportInputs, request: PlanRequest) -> None:
    """Render one report in this process and write it."""
    from app.errors import AppError
    from app.reports.service import InProcessRenderer, render_report

    try:
        pdf = render_report(inputs, request, InProcessRenderer()).pdf
    except AppError as exc:
        raise _fail(_problems(exc)) from exc
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror}") from exc
    out.print(f"Wrote {output} ({len(pdf) // 1024} KiB).")


def _report_all(directory: Path, key: str | None, workers: int) -> None:
    """Render every organization's (or one key's organizations') latest report into a
    directory with a progress bar, then a summary; exit code 1 if any failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from app.auth.service import Principal
    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.exports.bulk import Result, render_all
    from app.exports.service import latest_submitted
    from app.main import load_registry
    from app.questionnaire.loader import DefinitionError
    from app.questionnaire.registry import PublishedVersionChanged

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot create the directory {directory}: {exc.strerror}") from exc
    if not directory.is_dir():
        raise _fail(f"{directory} is not a directory; with --all, -o names one")
    settings = get_settings()
    engine = _database(settings)
    try:
        registry = load_registry(settings, engine)
        factory = session_factory(engine)
        with transaction(factory) as session:
            principal = _principal(session, key) if key else Principal.system()
            selection = latest_submitted(session, principal)
        outcomes: list[FileOutcome] = []
        renders = sum(item.assessment_id is not None for item in selection)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("Rendering roadmaps", total=renders)
            for outcome in render_all(factory, registry, settings, selection, directory, workers):
                outcomes.append(outcome)
                if outcome.result is not Result.SKIPPED:
                    progress.advance(task)
    except (DefinitionError, PublishedVersionChanged) as exc:
        raise _fail(f"questionnaires cannot be served:\n{exc}") from exc
    finally:
        engine.dispose()
    _print_summary(outcomes)
    if any(o.result is Result.FAILED for o in outcomes):
        raise typer.Exit(1)


def _principal(session: Session, reference: str) -> Principal:
    """The scope of an API key given by prefix, id or token; a revoked key is refused."""
    from app.auth.service import Principal, find_key
    from app.errors import AppError

    try:
        api_key = find_key(session, reference)
    except AppError as exc:
        raise _fail(exc.detail) from exc
    if api_key.revoked_at is not None:
        raise _fail(f"the API key {api_key.prefix} is revoked")
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


@keys_cli.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin, consultant or partner.")],
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Organization id to grant (repeat).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A label, e.g. the partner's name.")] = None,
) -> None:
    """Create an API key and print it once, alone on the last line."""
    from app.auth.service import create_key
    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.errors import AppError

    organization_ids = _organization_ids(org or [])
    engine = _database(get_settings())
    try:
        with transaction(session_factory(engine)) as session:
            issued = create_key(session, role, organization_ids, name)
            key_id, prefix = issued.key.id, issued.key.prefix
            _audit_cli(session, "api_key.create", "api_key", key_id, role=role.value)
    except (ValueError, AppError) as exc:
        raise _fail(getattr(exc, "detail", str(exc))) from exc
    finally:
        engine.dispose()
    grants = f", organizations: {', '.join(map(str, organization_ids))}" if organization_ids else ""
    out.print(f"Created {role.value} key {prefix} (id {key_id}){grants}. It is shown only once:")
    sys.stdout.flush()
    print(issued.token)


@keys_cli.command("list")
def keys_list() -> None:
    """List keys: prefix, role, name, grants, created, last used, revoked."""
    from rich.table import Table
    from sqlalchemy import select

    from app.auth.models import ApiKey, ApiKeyGrant
    from app.config import get_settings
    from app.db import session_factory, transaction

    engine = _database(get_settings())
    table = Table()
    for column in (
        "prefix",
        "id",
        "role",
        "name",
        "organizations",
        "created",
        "last used",
        "revoked",
    ):
        table.add_column(column)
    with transaction(session_factory(engine)) as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.created_at)):
            grants = session.scalars(
                select(ApiKeyGrant.organization_id).where(ApiKeyGrant.key_id == key.id)
            )
            table.add_row(
                key.prefix,
                str(key.id),
                key.role,
                key.name or "",
                "\n".join(map(str, grants)),
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    engine.dispose()
    out.print(table)


@keys_cli.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's prefix, id or token.")]) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    from app.auth.service import revoke_key
    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.errors import AppError

    engine = _database(get_settings())
    try:
        with transaction(session_factory(engine)) as session:
            revoked = revoke_key(session, key)
            prefix = revoked.prefix
            _audit_cli(session, "api_key.revoke", "api_key", revoked.id)
    except AppError as exc:
        raise _fail(exc.detail) from exc
    finally:
        engine.dispose()
    out.print(f"Revoked key {prefix}.")


@keys_cli.command("grant")
def keys_grant(
    key: Annotated[str, typer.Argument(help="The key's prefix, id or token.")],
    org: Annotated[list[str], typer.Option("--org", help="Organization id to grant (repeat).")],
) -> None:
    """Let a consultant or partner key work on more organizations."""
    from app.auth.service import grant
    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.errors import AppError

    organization_ids = _organization_ids(org)
    engine = _database(get_settings())
    try:
        with transaction(session_factory(engine)) as session:
            granted = grant(session, key, organization_ids)
            prefix = granted.prefix
            for organization_id in organization_ids:
                _audit_cli(session, "api_key.grant", "api_key", granted.id, organization_id)
    except (ValueError, AppError) as exc:
        raise _fail(getattr(exc, "detail", str(exc))) from exc
    finally:
        engine.dispose()
    out.print(f"Key {prefix} may now work on {', '.join(map(str, organization_ids))}.")


def _audit_cli(
    session: Session,
    action: str,
    object_type: str,
    object_id: uuid.UUID,
    organization_id: uuid.UUID | None = None,
    **detail: str,
) -> None:
    """Record a CLI write in the audit trail, in the write's own transaction (actor `cli`)."""
    from app.audit.service import CLI, Entry, Outcome, record

    record(
        session,
        Entry(
            CLI,
            action,
            Outcome.SUCCESS,
            object_type=object_type,
            object_id=str(object_id),
            organization_id=organization_id,
            detail=detail,
        ),
    )


@cli.command()
def invite(
    organization: Annotated[str, typer.Argument(help="The organization's id.")],
    questionnaire: Annotated[
        str | None, typer.Option(help="Questionnaire id (default: the only one served).")
    ] = None,
    days: Annotated[
        int | None, typer.Option(min=1, max=365, help="Days the link works (default 30).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where staff reach the service, e.g. https://assess.example.org "
            "(default SMM_PUBLIC_URL, else http://HOST:PORT)."
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="The address `smm serve` listens on (default SMM_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="The port `smm serve` listens on (default SMM_PORT)."),
    ] = None,
) -> None:
    """Make an invitation link to the web form; the link alone is on the last line.

    The link starts with --base-url, else SMM_PUBLIC_URL, else the address `smm serve`
    listens on: give the same --host/--port (or SMM_HOST/SMM_PORT) as to `smm serve`.
    """
    from app.auth.service import Principal
    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.errors import AppError
    from app.invitations.service import create_invitation
    from app.main import load_registry
    from app.organizations.models import Organization
    from app.questionnaire.loader import DefinitionError
    from app.questionnaire.registry import PublishedVersionChanged

    organization_id = _organization_ids([organization], given_as="ORGANIZATION")[0]
    settings = get_settings()
    engine = _database(settings)
    try:
        registry = load_registry(settings, engine)
        with transaction(session_factory(engine)) as session:
            target = session.get(Organization, organization_id)
            if target is None:
                raise _fail(f"there is no organization {organization_id}")
            issued = create_invitation(
                session,
                registry,
                Principal.system(),
                target,
                key=settings.signing_key(),
                questionnaire_id=questionnaire,
                days=days or settings.invitation_days,
            )
            name, expires = target.name, issued.invitation.expires_at
            _audit_cli(session, "invitation.create", "invitation", issued.invitation.id, target.id)
    except (DefinitionError, PublishedVersionChanged) as exc:
        raise _fail(f"questionnaires cannot be served:\n{exc}") from exc
    except AppError as exc:
        raise _fail(exc.detail) from exc
    finally:
        engine.dispose()
    base = _link_base(base_url or settings.public_url, host or settings.host, port or settings.port)
    out.print(f"Invitation for {name}, valid until {expires:%Y-%m-%d %H:%M} UTC. The link:")
    sys.stdout.flush()
    print(f"{base.rstrip('/')}/i/{issued.token}")


def _link_base(public_url: str | None, host: str, port: int) -> str:
    """The start of a link: the public URL, else where `smm serve` listens."""
    if public_url:
        return public_url.rstrip("/")
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - "every address" cannot be browsed to
        import socket

        host = socket.getfqdn()
        err.print(
            f"note: the server listens on every address; the link uses {host}. Set "
            "SMM_PUBLIC_URL or --base-url to the address staff reach.",
            markup=False,
        )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


@org_cli.command("create")
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

    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.organizations.models import Organization
    from app.organizations.schemas import OrganizationCreate

    try:
        data = OrganizationCreate.model_validate(
            {"name": name, "type": org_type, "licensed_beds": beds, "state": state}
        )
    except ValidationError as exc:
        raise _fail(_option_problems(exc, {"licensed_beds": "--beds", "name": "NAME"})) from exc
    engine = _database(get_settings())
    try:
        with transaction(session_factory(engine)) as session:
            row = Organization(
                name=data.name,
                type=data.type.value,
                licensed_beds=data.licensed_beds,
                state=data.state,
            )
            session.add(row)
            session.flush()
            organization_id = row.id
            _audit_cli(session, "organization.create", "organization", row.id, row.id)
    finally:
        engine.dispose()
    out.print(
        f"Created {data.name} ({data.type.value}, {data.licensed_beds} beds, {data.state}). "
        "Its id:",
        markup=False,
    )
    sys.stdout.flush()
    print(organization_id)


@org_cli.command("list")
def org_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """List client organizations, oldest first: id, name, type, beds, state."""
    from rich.table import Table
    from sqlalchemy import select

    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.organizations.models import Organization

    engine = _database(get_settings())
    try:
        with transaction(session_factory(engine)) as session:
            rows = [
                {
                    "id": str(o.id),
                    "name": o.name,
                    "type": o.type,
                    "licensed_beds": o.licensed_beds,
                    "state": o.state,
                    "created_at": o.created_at.isoformat(),
                }
                for o in session.scalars(
                    select(Organization).order_by(Organization.created_at, Organization.id)
                )
            ]
    finally:
        engine.dispose()
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


def _option_problems(exc: Exception, names: dict[str, str]) -> str:
    """A validation error's problems, each named by the option the user typed."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    problems = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        option = names.get(field, f"--{field.replace('_', '-')}")
        problems.append(f"{option}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


@org_cli.command("settings")
def org_settings(
    organization: Annotated[str, typer.Argument(help="The organization's id.")],
    target: TargetOption = None,
    budget: BudgetOption = None,
    exclude: ExcludeOption = None,
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

    A --target changes that dimension's target only; --exclude replaces the exclusions.
    """
    from pydantic import ValidationError

    from app.auth.service import Principal
    from app.config import get_settings
    from app.db import session_factory, transaction
    from app.errors import AppError
    from app.organizations.models import Organization
    from app.organizations.roadmap_settings import (
        RoadmapSettingsRead,
        RoadmapSettingsUpdate,
        read_settings,
        replace_settings,
    )

    if notes is not None and notes_file is not None:
        raise _fail("give --notes or --notes-file, not both")
    if notes_file is not None:
        try:
            notes = notes_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"cannot read {notes_file}: {exc}") from exc
    request = _plan_request(target, budget, exclude)
    changing = clear or bool(target) or budget is not None or bool(exclude) or notes is not None
    organization_id = _organization_ids([organization], given_as="ORGANIZATION")[0]
    settings = get_settings()
    registry = _registry(settings)
    engine = _database(settings)
    try:
        with transaction(session_factory(engine)) as session:
            row = session.get(Organization, organization_id)
            if row is None:
                raise _fail(f"there is no organization {organization_id}")
            current = read_settings(row)
            if changing:
                if clear:
                    current = RoadmapSettingsRead(
                        targets={}, budget=None, excluded_services=[], notes=None
                    )
                changed = RoadmapSettingsUpdate.model_validate(
                    {
                        "targets": {**current.targets, **request.targets},
                        "budget": budget if budget is not None else current.budget,
                        "excluded_services": list(request.excluded_services)
                        or current.excluded_services,
                        "notes": notes if notes is not None else current.notes,
                    }
                )
                current = replace_settings(session, registry, Principal.system(), row, changed)
            name = row.name
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise _fail(problems) from exc
    except AppError as exc:
        raise _fail(_problems(exc)) from exc
    finally:
        engine.dispose()
    _print_settings(name, organization_id, current)


def _print_settings(name: str, organization_id: uuid.UUID, current: RoadmapSettingsRead) -> None:
    targets = ", ".join(f"{d}={level}" for d, level in current.targets.items())
    lines = [
        f"Roadmap settings of {name} ({organization_id}):",
        f"  targets: {targets or 'one level up in every dimension'}",
        f"  budget: {_money(current.budget, 'USD') if current.budget is not None else 'none'}",
        f"  excluded services: {', '.join(current.excluded_services) or 'none'}",
        f"  notes: {current.notes if current.notes else 'none'}",
    ]
    for line in lines:
        out.print(line, markup=False)


def _organization_ids(values: list[str], given_as: str = "--org") -> list[uuid.UUID]:
    """Organization ids from the command line; ``given_as`` names the option or argument."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError as exc:
            raise _fail(
                f"{given_as} {value!r} is not an organization id (a UUID); "
                "`smm org list` shows them"
            ) from exc
    return ids


@questionnaires_cli.command("check")
def questionnaires_check() -> None:
    """Validate every questionnaire file; print each problem with file, line and path."""
    from app.config import get_settings
    from app.questionnaire.loader import DefinitionError, load_directory

    settings = get_settings()
    try:
        loaded = load_directory(settings.questionnaires_dir)
    except DefinitionError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise _fail(f"{len(exc.problems)} problem(s) found") from exc
    for item in loaded:
        d = item.definition
        out.print(
            f"ok  {item.source}: {d.id} v{d.version}, {len(d.questions)} questions, "
            f"sha256 {item.content_hash[:16]}"
        )


def main() -> None:
    """Entry point of the `smm` console script."""
    cli()


if __name__ == "__main__":
    main()
