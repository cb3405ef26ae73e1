"""The `smm` command: serve, score offline, manage API keys, check questionnaires.

This module assembles the command groups, one module each, into one typer application.
The group modules import only typer, rich and what their options need; each command
imports the rest when it runs, so that `smm --help` answers at once instead of after
loading WeasyPrint and SQLAlchemy.
"""

from __future__ import annotations

from typing import Annotated

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
    """Entry point of the `smm` console script."""
    cli()
