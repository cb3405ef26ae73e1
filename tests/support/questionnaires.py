"""The repository's questionnaires, loaded once per test process and shared read-only.

Definitions and catalogues are frozen, so every module that needs them can use the same
loaded copy instead of parsing the YAML again at import.
"""

from __future__ import annotations

from functools import cache

from app.config import PROJECT_ROOT
from app.questionnaire.loader import LoadedDefinition, load_directory
from app.questionnaire.schemas import QuestionnaireDefinition

QUESTIONNAIRES = PROJECT_ROOT / "questionnaires"
HOSPITAL = "hospital-social-media"


@cache
def _loaded() -> tuple[LoadedDefinition, ...]:
    return tuple(load_directory(QUESTIONNAIRES))


def loaded_questionnaires() -> list[LoadedDefinition]:
    """Every version in questionnaires/, as ``load_directory`` returns them (a new list)."""
    return list(_loaded())


def loaded_by_key() -> dict[tuple[str, int], LoadedDefinition]:
    """Every loaded version by (questionnaire id, version)."""
    return {(item.definition.id, item.definition.version): item for item in _loaded()}


def loaded_version(version: int, questionnaire_id: str = HOSPITAL) -> LoadedDefinition:
    """One loaded version (definition, catalogue and hashes); KeyError if it is not there."""
    return loaded_by_key()[(questionnaire_id, version)]


def definition_of(version: int, questionnaire_id: str = HOSPITAL) -> QuestionnaireDefinition:
    """One version's definition."""
    return loaded_version(version, questionnaire_id).definition
