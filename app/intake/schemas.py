"""Request and response bodies for assessments."""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from app.schemas import WHOLE_NUMBER, ReadModel, RequestModel
from app.scoring.results import AnswerNote, AssessmentScore, DimensionScore, GateCheck, NextLevel
from app.text import CHECKED_TEXT, CHECKED_TEXT_VALUES, TEXT_PATTERN

AnswerScalar = Annotated[float, Field(allow_inf_nan=False)]
# The text check runs on the whole value, so that its error names `answers[3].value`
# rather than one of the union's members.
AnswerValueIn = Annotated[
    bool
    | int
    | AnswerScalar
    | Annotated[str, StringConstraints(max_length=10000, pattern=TEXT_PATTERN)]
    | Annotated[
        list[Annotated[str, StringConstraints(max_length=64, pattern=TEXT_PATTERN)]],
        Field(max_length=100),
    ],
    CHECKED_TEXT_VALUES,
]


#: The longest comment an answer may carry, at every door.
COMMENT_MAX_LENGTH = 2000


class AnswerIn(RequestModel):
    """One answer. Give ``value``, or ``na: true`` where the question allows it.

    An item with neither clears that question's answer (useful when updating a draft).
    """

    question_id: Annotated[str, StringConstraints(min_length=1, max_length=64), CHECKED_TEXT]
    value: AnswerValueIn | None = Field(
        default=None,
        description=(
            "single_choice: an option value; multiple_choice: a list of option values; "
            "yes_no: true/false; scale: an integer; number: a number; text: a string."
        ),
    )
    na: bool = Field(
        default=False, strict=True, description="Not applicable (only where `allow_na`)."
    )
    comment: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=COMMENT_MAX_LENGTH),
            CHECKED_TEXT,
        ]
        | None
    ) = None


class QuestionnaireRef(RequestModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64), CHECKED_TEXT]
    version: Annotated[int, Field(strict=True, ge=1, le=1_000_000), WHOLE_NUMBER] | None = Field(
        default=None, description="Defaults to the latest version."
    )


class AnswersFile(RequestModel):
    """Answers to one questionnaire version, as in `examples/*.json` (`smm score FILE`)."""

    questionnaire: QuestionnaireRef
    status: Literal["draft", "submitted"] = "draft"
    answers: list[AnswerIn] = Field(default_factory=list, max_length=1000)


class AssessmentCreate(AnswersFile):
    """A new assessment: a draft (may be partial) or submitted (must be complete)."""

    organization_id: uuid.UUID


class AssessmentUpdate(RequestModel):
    """Change a draft: the answers given replace those questions' answers; others stay.

    ``status: "submitted"`` submits it in the same request.
    """

    answers: list[AnswerIn] = Field(default_factory=list, max_length=1000)
    status: Literal["draft", "submitted"] | None = None


class AnswerRead(ReadModel):
    question_id: str
    value: bool | int | float | str | list[str] | None = None
    na: bool = False
    comment: str | None = None


class QuestionnaireVersionRef(BaseModel):
    id: str
    version: int


def _read_model(
    result: type,
    name: str,
    nested: Mapping[type, type[ReadModel]] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> type[ReadModel]:
    """The response schema of one of the engine's result types, generated from it.

    The fields, their types and their order are the result's own (tuples become lists,
    nested results their own response schemas), so the API's description of a score can
    never drift from what the engine returns; only the documentation is added here.
    """
    hints = typing.get_type_hints(result)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        annotation = _response_type(hints[field.name], nested or {})
        described = (descriptions or {}).get(field.name)
        fields[field.name] = (annotation, Field(description=described) if described else ...)
    model: type[ReadModel] = create_model(name, __base__=ReadModel, __module__=__name__, **fields)
    return model


def _response_type(hint: Any, nested: Mapping[type, type[ReadModel]]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[_response_type(args[0], nested)]  # type: ignore[misc]
    if origin is types.UnionType:
        return functools.reduce(operator.or_, (_response_type(a, nested) for a in args))
    return nested.get(hint, hint)


# The score snapshot stored with an assessment (AssessmentScore.to_dict()), as responses
# carry it: generated from app.scoring.results.
AnswerNoteRead = _read_model(AnswerNote, "AnswerNoteRead")
GateRead = _read_model(GateCheck, "GateRead")
NextLevelRead = _read_model(NextLevel, "NextLevelRead", {GateCheck: GateRead})
DimensionRead = _read_model(
    DimensionScore,
    "DimensionRead",
    {GateCheck: GateRead, AnswerNote: AnswerNoteRead, NextLevel: NextLevelRead},
    {
        "score": "0-100: weighted mean of answered, applicable questions.",
        "level": "1-5, after gates.",
        "level_by_score": "The level the score alone would give.",
        "summary": "Why this level, in plain words.",
    },
)
ScoresRead = _read_model(AssessmentScore, "ScoresRead", {DimensionScore: DimensionRead})


class IdentifierWarningRead(BaseModel):
    """A comment or free-text answer in the request that looks like it holds an identifier."""

    field: str = Field(description="Where in the request, e.g. `answers[3].comment`.")
    question_id: str
    kinds: list[str] = Field(description="What it looks like: phone number, email address, ...")
    message: str


class AssessmentRead(ReadModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    questionnaire: QuestionnaireVersionRef
    status: Literal["draft", "submitted"]
    source: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    answers: list[AnswerRead]
    scores: ScoresRead  # type: ignore[valid-type]  # generated above
    warnings: list[IdentifierWarningRead] = Field(
        default_factory=list,
        description="Comments or free-text answers sent in this request that look like they "
        "hold a patient identifier (stored all the same): remove the identifier.",
    )


class AssessmentSummary(ReadModel):
    """An assessment in a list: its levels without the answers."""

    id: uuid.UUID
    organization_id: uuid.UUID
    questionnaire: QuestionnaireVersionRef
    status: Literal["draft", "submitted"]
    created_at: datetime
    submitted_at: datetime | None
    overall_level: int
    levels: dict[str, int]
    scores: dict[str, float]


class AssessmentPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[AssessmentSummary]
    total: int
    limit: int
    offset: int


class AssessmentBatchCreate(RequestModel):
    """Up to 500 assessments, each stored or refused on its own."""

    assessments: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="Each item is a body of `POST /v1/assessments` (AssessmentCreate).",
        json_schema_extra={"items": {"$ref": "#/components/schemas/AssessmentCreate"}},
    )


class BatchItemFieldError(BaseModel):
    field: str = Field(description="e.g. `assessments[3].answers[2].value`.")
    question_id: str | None = None
    message: str


class AssessmentBatchItem(BaseModel):
    """What became of one item: created (with its levels) or refused (with the reasons)."""

    index: int = Field(description="The item's position in `assessments`, from 0.")
    status: Literal["created", "error"]
    assessment: AssessmentSummary | None = None
    error: str | None = Field(default=None, description="The error code, as for one POST.")
    detail: str | None = None
    errors: list[BatchItemFieldError] | None = None


class AssessmentBatchResult(BaseModel):
    created: int
    failed: int
    items: list[AssessmentBatchItem]
