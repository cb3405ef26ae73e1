"""Questionnaire definitions, as published, with every option's score."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from app.api.responses import errors
from app.http.deps import PrincipalDep, RegistryDep, reject_unknown_query_parameters
from app.questionnaire.loader import LoadedDefinition
from app.questionnaire.schemas import QuestionnaireDefinition

router = APIRouter(
    prefix="/v1/questionnaires",
    tags=["questionnaires"],
    dependencies=[Depends(reject_unknown_query_parameters)],
)

QuestionnaireId = Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]


class QuestionnaireSummary(BaseModel):
    id: str
    title: str
    latest_version: int
    versions: list[int]
    language: str


class QuestionnaireList(BaseModel):
    items: list[QuestionnaireSummary]


class QuestionnaireRead(QuestionnaireDefinition):
    """A full definition: dimensions, levels, thresholds, gates, questions and option scores."""

    content_hash: str = Field(
        description="SHA-256 of the canonical definition; fixed once published."
    )


def _read(loaded: LoadedDefinition) -> QuestionnaireRead:
    return QuestionnaireRead.model_validate(
        {**loaded.definition.model_dump(by_alias=True), "content_hash": loaded.content_hash}
    )


@router.get("", responses=errors())
def list_questionnaires(_: PrincipalDep, registry: RegistryDep) -> QuestionnaireList:
    """List the questionnaires and their published versions."""
    return QuestionnaireList(
        items=[
            QuestionnaireSummary(
                id=item.definition.id,
                title=item.definition.title,
                latest_version=item.definition.version,
                versions=[v.definition.version for v in registry.versions(item.definition.id)],
                language=item.definition.language,
            )
            for item in registry.latest()
        ]
    )


@router.get("/{questionnaire_id}", responses=errors(404), response_model_by_alias=True)
def get_latest_questionnaire(
    questionnaire_id: QuestionnaireId, _: PrincipalDep, registry: RegistryDep
) -> QuestionnaireRead:
    """Get the latest version of a questionnaire, in full."""
    return _read(registry.get(questionnaire_id))


@router.get(
    "/{questionnaire_id}/versions/{version}", responses=errors(404), response_model_by_alias=True
)
def get_questionnaire_version(
    questionnaire_id: QuestionnaireId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    _: PrincipalDep,
    registry: RegistryDep,
) -> QuestionnaireRead:
    """Get one published version of a questionnaire, in full."""
    return _read(registry.get(questionnaire_id, version))
