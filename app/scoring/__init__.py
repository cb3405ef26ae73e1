"""Pure scoring: a definition and answers in; scores, levels and explanations out.

No database, no web framework, no clock. An import-linter contract keeps it so.
"""

from app.scoring.engine import ENGINE_VERSION, score_answers
from app.scoring.results import (
    AnswerNote,
    AssessmentScore,
    DimensionScore,
    GateCheck,
    NextLevel,
)

__all__ = [
    "ENGINE_VERSION",
    "AnswerNote",
    "AssessmentScore",
    "DimensionScore",
    "GateCheck",
    "NextLevel",
    "score_answers",
]
