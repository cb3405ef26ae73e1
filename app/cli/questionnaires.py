"""`smm questionnaires`: check the questionnaire definition files."""

from __future__ import annotations

import typer

from app.cli.console import err, fail, out

cli = typer.Typer(help="Questionnaire definitions.", no_args_is_help=True)


@cli.command("check")
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
        raise fail(f"{len(exc.problems)} problem(s) found") from exc
    for item in loaded:
        d = item.definition
        out.print(
            f"ok  {item.source}: {d.id} v{d.version}, {len(d.questions)} questions, "
            f"sha256 {item.content_hash[:16]}"
        )
