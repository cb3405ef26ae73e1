"""The questionnaire definition format: frozen pydantic models, one per YAML shape.

Everything here is structural. Rules that relate one part of a definition to another
(ids that must exist, conditions that must point backwards, gates that must be
passable) live in ``rules.py`` so that every problem in a file is reported at once.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)
]
OptionValue = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=1, max_length=64)
]
Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Score = Annotated[float, Field(ge=0, le=100)]
LevelNumber = Annotated[int, Field(ge=1, le=5)]
GatedLevel = Annotated[int, Field(ge=2, le=5)]

LEVELS = (1, 2, 3, 4, 5)


class DefinitionModel(BaseModel):
    """Base for every definition shape: immutable, and strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ExtendedModel(DefinitionModel):
    """A shape that gained optional fields after version 1 of the format was published.

    Fields named in ``ADDITIONS`` are left out of the canonical document (see
    ``canonical_document``) while they hold their default, so a file that does not use
    them keeps the content hash it was published with.
    """

    ADDITIONS: ClassVar[frozenset[str]] = frozenset()


def canonical_document(model: BaseModel) -> Any:
    """The model as JSON data (by alias), without additions that hold their default."""
    return _without_unused_additions(model, model.model_dump(mode="json", by_alias=True))


def _without_unused_additions(model: Any, data: Any) -> Any:
    if isinstance(model, BaseModel) and isinstance(data, dict):
        additions = model.ADDITIONS if isinstance(model, ExtendedModel) else frozenset()
        kept = {}
        for name, info in type(model).model_fields.items():
            key = info.alias or name
            if key not in data:
                continue
            value = getattr(model, name)
            if name in additions and value == info.default:
                continue
            kept[key] = _without_unused_additions(value, data[key])
        return kept
    if isinstance(model, tuple | list) and isinstance(data, list):
        return [_without_unused_additions(m, d) for m, d in zip(model, data, strict=True)]
    if isinstance(model, dict) and isinstance(data, dict):
        # Keys may have become text (thresholds, labels); the order is the same.
        return {
            key: _without_unused_additions(value, item)
            for (key, item), value in zip(data.items(), model.values(), strict=True)
        }
    return data


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    SCALE = "scale"
    NUMBER = "number"
    TEXT = "text"


class OverallMethod(StrEnum):
    """How the overall level is derived from the dimension levels."""

    WEAKEST = "weakest"  # the lowest dimension level (a chain is as strong as its weakest link)
    MEAN = "mean"  # the weighted mean of dimension levels, rounded down


class Level(DefinitionModel):
    level: LevelNumber
    name: Prose
    description: Prose


class Thresholds(DefinitionModel):
    """Minimum dimension score (0-100) for each level above 1; level 1 needs nothing."""

    level_2: Score = Field(alias="2")
    level_3: Score = Field(alias="3")
    level_4: Score = Field(alias="4")
    level_5: Score = Field(alias="5")

    @model_validator(mode="before")
    @classmethod
    def _level_keys_as_text(cls, data: object) -> object:
        # YAML reads `2: 25` with an integer key; the aliases are text.
        if isinstance(data, dict):
            return {str(key): value for key, value in data.items()}
        return data

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        """Thresholds indexed by level - 1, with level 1 at 0."""
        return (0.0, self.level_2, self.level_3, self.level_4, self.level_5)


class Dimension(ExtendedModel):
    ADDITIONS = frozenset({"levels"})

    id: Identifier
    title: Prose
    description: Prose
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    thresholds: Thresholds
    # This dimension's own description of each level (five, 1 to 5, named as the
    # questionnaire's levels); the questionnaire's generic levels serve when absent.
    levels: tuple[Level, ...] | None = None

    def level_description(self, level: int, generic: tuple[Level, ...]) -> str:
        """What ``level`` means in this dimension, or the generic description."""
        own = self.levels or generic
        return own[level - 1].description


class Source(DefinitionModel):
    """Where a regulatory or platform statement in a question's help text is published."""

    title: Prose
    publisher: Prose
    url: Annotated[str, StringConstraints(pattern=r"^https://[^\s]+$", max_length=2000)] | None = (
        None
    )
    date: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$")] | None = (
        None
    )

    @field_validator("date", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        # YAML reads an unquoted 2024-03-18 as a date and 2016 as an integer.
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("date")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        if value is not None and len(value) == 10:
            date.fromisoformat(value)  # raises ValueError for 2024-02-30
        return value


class Gate(DefinitionModel):
    """The question must score at least ``min_score`` for the dimension to reach ``level``."""

    level: GatedLevel
    min_score: Annotated[float, Field(gt=0, le=100)]


class ShowIf(DefinitionModel):
    """Ask this question only when an earlier question's answer meets the condition.

    Exactly one of the operators is given:
    - ``equals``: a single-choice option value, a yes/no boolean or a scale point;
    - ``any_of``: a list of single-choice option values;
    - ``includes``: an option value that a multiple-choice answer contains;
    - ``at_least``: a minimum for a scale or number answer.
    """

    question: Identifier
    equals: str | bool | int | None = None
    any_of: Annotated[tuple[OptionValue, ...], Field(min_length=1)] | None = None
    includes: OptionValue | None = None
    at_least: float | None = None


class Option(DefinitionModel):
    value: OptionValue
    label: Prose
    score: Score
    # For multiple choice: an option such as "none of these" that must stand alone.
    exclusive: bool = False


class NumberBand(DefinitionModel):
    """Answers from ``at_least`` up to the next band's ``at_least`` score ``score``."""

    at_least: float
    score: Score
    label: Prose | None = None


class QuestionBase(ExtendedModel):
    ADDITIONS = frozenset({"evidence", "sources"})

    id: Identifier
    dimension: Identifier
    prompt: Prose
    help: Prose
    weight: Annotated[float, Field(ge=0, le=100)] = 1.0
    required: bool = True
    allow_na: bool = False
    na_label: Prose | None = None
    show_if: ShowIf | None = None
    gates: tuple[Gate, ...] = ()
    # What a reviewer would ask to see to confirm the answer.
    evidence: Prose | None = None
    # Where the statements in the help text come from.
    sources: tuple[Source, ...] = ()


class SingleChoiceQuestion(QuestionBase):
    type: Literal[QuestionType.SINGLE_CHOICE]
    options: tuple[Option, ...] = Field(min_length=2)


class MultipleChoiceQuestion(QuestionBase):
    """Scored as the sum of the chosen options' scores, capped at 100."""

    type: Literal[QuestionType.MULTIPLE_CHOICE]
    options: tuple[Option, ...] = Field(min_length=2)


class YesNoQuestion(QuestionBase):
    type: Literal[QuestionType.YES_NO]
    yes_score: Score = 100
    no_score: Score = 0


class ScaleQuestion(QuestionBase):
    """An integer from ``min`` to ``max``, scored linearly from 0 to 100."""

    type: Literal[QuestionType.SCALE]
    min: int = 1
    max: int = 5
    labels: dict[int, Prose] = Field(default_factory=dict)


class NumberQuestion(QuestionBase):
    """A number in [min, max], scored by the band it falls in."""

    type: Literal[QuestionType.NUMBER]
    min: float = 0
    max: float
    integer: bool = True
    unit: Prose
    bands: tuple[NumberBand, ...] = Field(min_length=1)


class TextQuestion(QuestionBase):
    """Free text: kept, shown in reports, never scored."""

    type: Literal[QuestionType.TEXT]
    weight: Literal[0] = 0
    max_length: Annotated[int, Field(ge=1, le=10000)] = 2000


Question = Annotated[
    SingleChoiceQuestion
    | MultipleChoiceQuestion
    | YesNoQuestion
    | ScaleQuestion
    | NumberQuestion
    | TextQuestion,
    Field(discriminator="type"),
]

ChoiceQuestion = SingleChoiceQuestion | MultipleChoiceQuestion


class QuestionnaireDefinition(DefinitionModel):
    """One published version of a questionnaire, exactly as its YAML file says."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", min_length=1, max_length=64)]
    version: Annotated[int, Field(ge=1)]
    title: Prose
    description: Prose
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en-US"
    publisher: Prose
    overall_level: OverallMethod = OverallMethod.WEAKEST
    levels: tuple[Level, ...] = Field(min_length=5, max_length=5)
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    questions: tuple[Question, ...] = Field(min_length=1)

    _index: dict[str, tuple[int, Question]] | None = PrivateAttr(default=None)

    def question_index(self) -> dict[str, tuple[int, Question]]:
        """Question id -> (position, question), built once per definition."""
        if self._index is None:
            self._index = {q.id: (i, q) for i, q in enumerate(self.questions)}
        return self._index

    def level_name(self, level: int) -> str:
        """The name of a level, e.g. 3 -> 'Defined'."""
        return self.levels[level - 1].name

    def dimension(self, dimension_id: str) -> Dimension | None:
        """A dimension by id, or None."""
        return next((d for d in self.dimensions if d.id == dimension_id), None)

    def questions_in(self, dimension_id: str) -> tuple[Question, ...]:
        """The questions of one dimension, in definition order."""
        return tuple(q for q in self.questions if q.dimension == dimension_id)

    def question(self, question_id: str) -> Question | None:
        """A question by id, or None."""
        entry = self.question_index().get(question_id)
        return entry[1] if entry else None
