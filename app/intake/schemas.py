"""Request and response bodies for assessments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.schemas import WHOLE_NUMBER, ReadModel, RequestModel, read_model
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


# The score snapshot stored with an assessment (AssessmentScore.to_dict()), as responses
# carry it: generated from app.scoring.results.
AnswerNoteRead = read_model(AnswerNote, "AnswerNoteRead", module=__name__)
GateRead = read_model(GateCheck, "GateRead", module=__name__)
NextLevelRead = read_model(
    NextLevel, "NextLevelRead", module=__name__, nested={GateCheck: GateRead}
)
DimensionRead = read_model(
    DimensionScore,
    "DimensionRead",
    module=__name__,
    nested={GateCheck: GateRead, AnswerNote: AnswerNoteRead, NextLevel: NextLevelRead},
    descriptions={
        "score": "0-100: weighted mean of answered, applicable questions.",
        "level": "1-5, after gates.",
        "level_by_score": "The level the score alone would give.",
        "summary": "Why this level, in plain words.",
    },
)
ScoresRead = read_model(
    AssessmentScore, "ScoresRead", module=__name__, nested={DimensionScore: DimensionRead}
)


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
    report_job_id: uuid.UUID | None = Field(
        default=None,
        description="For a submitted item: the job rendering its default report at once "
        "(`GET /v1/reports/{id}`), as the `Link` header of one POST names it.",
    )
    error: str | None = Field(default=None, description="The error code, as for one POST.")
    detail: str | None = None
    errors: list[BatchItemFieldError] | None = None


class AssessmentBatchResult(BaseModel):
    created: int
    failed: int
    items: list[AssessmentBatchItem]
