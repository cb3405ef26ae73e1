"""The `smm` command: serve, score offline, manage API keys, check questionnaires.

This module assembles the command groups, one module each, into one typer application.
The group modules import only typer, rich and what their options need; each command
imports the rest when it runs, so that `smm --help` answers at once instead of after
loading WeasyPrint and SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app import __version__
from app.cli import (
    invitations,
    keys,
    offline,
    organizations,
    questionnaires,
    report,
    server,
    users,
)
from app.cli.console import out

if TYPE_CHECKING:
    from pydantic import ValidationError

cli = typer.Typer(
    help="smm-assess: social-media maturity assessment for hospitals.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


cli.add_typer(keys.cli, name="keys")
cli.add_typer(users.cli, name="users")
cli.add_typer(questionnaires.cli, name="questionnaires")
cli.add_typer(organizations.cli, name="org")
cli.command()(server.serve)
cli.command()(server.worker)
cli.command()(server.migrate)
cli.command()(offline.score)
cli.command()(offline.roadmap)
cli.command()(report.report)
cli.command()(invitations.invite)


def main() -> None:
    """Entry point of the `smm` console script.

    A setting the environment gives a value it may not have ends the command with one
    line per setting, named as it is set (``SMM_...``), and exit status 2.
    """
    from pydantic import ValidationError

    try:
        cli()
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for line in settings_errors(exc):
            typer.echo(f"smm: {line}", err=True)
        raise SystemExit(2) from None


def settings_errors(exc: ValidationError) -> list[str]:
    """What is wrong with the settings, a line per setting, by its environment name.

    Settings whose defaults are worked out from others (``SMM_RENDER_WORKERS``) report
    nothing of their own when another is wrong, so they are left out.
    """
    lines = []
    for error in exc.errors(include_url=False):
        if error["type"] == "default_factory_not_called":
            continue
        name = "SMM_" + "_".join(str(part) for part in error["loc"]).upper()
        lines.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
    return lines
