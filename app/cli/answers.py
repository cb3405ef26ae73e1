"""An answers file read, checked and scored against the questionnaires on disk, for the
commands that work offline (no database)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.console import fail

if TYPE_CHECKING:
    from app.config import Settings
    from app.intake.identifiers import IdentifierWarning
    from app.intake.schemas import AnswersFile
    from app.intake.validation import Answer
    from app.questionnaire.loader import LoadedDefinition
    from app.questionnaire.registry import QuestionnaireRegistry
    from app.reports.inputs import ReportInputs
    from app.scoring import AssessmentScore


def files_registry(settings: Settings) -> QuestionnaireRegistry:
    """The questionnaires in the files on disk, unpublished; invalid ones fail the command."""
    from app.questionnaire.loader import DefinitionError, load_directory
    from app.questionnaire.registry import QuestionnaireRegistry

    try:
        return QuestionnaireRegistry.of(load_directory(settings.questionnaires_dir))
    except DefinitionError as exc:
        raise fail(f"questionnaires are invalid:\n{exc}") from exc


def read_answers_file(path: Path) -> AnswersFile:
    """The answers file at ``path``; one that cannot be read or parsed fails the command."""
    from pydantic import ValidationError

    from app.intake.schemas import AnswersFile

    try:
        return AnswersFile.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        lines = []
        for e in exc.errors(include_url=False):
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
            lines.append(f"  {loc or '(file)'}: {e['msg']}")
        raise fail(f"{path} is not an answers file:\n" + "\n".join(lines)) from exc


def checked_file(path: Path, settings: Settings) -> tuple[LoadedDefinition, dict[str, Answer]]:
    """An answers file checked against the questionnaire version it names."""
    from app.errors import AppError, InvalidAnswers
    from app.intake.validation import check_answers

    document = read_answers_file(path)
    registry = files_registry(settings)
    try:
        loaded = registry.get(document.questionnaire.id, document.questionnaire.version)
        answers = check_answers(
            loaded.definition, document.answers, submitting=document.status == "submitted"
        )
    except InvalidAnswers as exc:
        found = "\n".join(f"  {e['field']}: {e['message']}" for e in exc.extra["errors"])
        raise fail(f"{path}: {exc.detail}\n{found}") from exc
    except AppError as exc:
        raise fail(f"{path}: {exc.detail}") from exc
    return loaded, answers


def identifier_warnings_of(path: Path, settings: Settings) -> list[IdentifierWarning]:
    """Comments and free-text answers in an answers file that look like identifiers."""
    from app.intake.identifiers import identifier_warnings

    document = read_answers_file(path)
    loaded = files_registry(settings).get(document.questionnaire.id, document.questionnaire.version)
    return identifier_warnings(loaded.definition, document.answers)


def score_file(path: Path, settings: Settings) -> AssessmentScore:
    """Check and score an answers file against the questionnaires on disk."""
    from app.scoring import score_answers

    loaded, answers = checked_file(path, settings)
    return score_answers(loaded.definition, {qid: a.value for qid, a in answers.items()})


def offline_inputs(
    path: Path, beds: int, name: str, org_type: str, state: str, assessed_on: str | None
) -> ReportInputs:
    """What a roadmap or report of an answers file is made from, for the given organization."""
    from datetime import date

    from app.config import get_settings
    from app.reports.inputs import ReportInputs
    from app.reports.view import OrganizationInfo

    loaded, answers = checked_file(path, get_settings())
    if loaded.catalogue is None or loaded.catalogue_hash is None:
        raise fail(f"there is no action catalogue beside {loaded.source}")
    try:
        day = date.fromisoformat(assessed_on) if assessed_on else date.today()
    except ValueError as exc:
        raise fail(f"--date {assessed_on!r} is not a date like 2026-03-31") from exc
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
