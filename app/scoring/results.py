"""What the engine returns: plain slotted dataclasses, cheap to build and to serialise.

Not frozen: a frozen dataclass sets each field through object.__setattr__, which made
building a result noticeably slower; nothing mutates them after the engine returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter


@dataclass(slots=True)
class AnswerNote:
    """One answer as the explanation shows it: the question, the answer, its score."""

    question_id: str
    prompt: str
    answer: str
    score: float


@dataclass(slots=True)
class GateCheck:
    """A gate on a level: which question holds it, what it needs and what it has."""

    level: int
    question_id: str
    prompt: str
    min_score: float
    score: float | None  # None: not answered
    answer: str
    met: bool


@dataclass(slots=True)
class NextLevel:
    """What the dimension needs to reach the level above its current one."""

    level: int
    name: str
    score_needed: float
    points_short: float
    gates_to_meet: tuple[GateCheck, ...]
    summary: str


@dataclass(slots=True)
class DimensionScore:
    """One dimension's score (0-100), level (1-5) and the reasons for it."""

    dimension_id: str
    title: str
    score: float
    level: int
    level_name: str
    level_by_score: int
    answered: int
    applicable: int
    failed_gates: tuple[GateCheck, ...]
    strongest: tuple[AnswerNote, ...]
    weakest: tuple[AnswerNote, ...]
    next_level: NextLevel | None
    summary: str


@dataclass(slots=True)
class AssessmentScore:
    """The whole result for one set of answers."""

    engine_version: str
    questionnaire_id: str
    questionnaire_version: int
    overall_level: int
    overall_level_name: str
    overall_score: float
    complete: bool
    dimensions: tuple[DimensionScore, ...]

    def dimension(self, dimension_id: str) -> DimensionScore:
        """One dimension's result by id."""
        for dimension in self.dimensions:
            if dimension.dimension_id == dimension_id:
                return dimension
        raise KeyError(dimension_id)

    @property
    def levels(self) -> dict[str, int]:
        """Dimension id -> level."""
        return {d.dimension_id: d.level for d in self.dimensions}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored with an assessment."""
        data: dict[str, Any] = _ADAPTER.dump_python(self, mode="json")
        return data


# Pydantic's serializer is compiled; dataclasses.asdict deep-copies in Python, ~8x slower.
_ADAPTER: TypeAdapter[AssessmentScore] = TypeAdapter(AssessmentScore)
