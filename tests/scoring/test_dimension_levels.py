"""The planner's lean scorer agrees with the full engine on every answer set."""

from __future__ import annotations

from hypothesis import given

from app.scoring.engine import dimension_levels, score_answers
from tests.strategies import DEFINITION, answer_sets


@given(answer_sets(complete=False))
def test_dimension_levels_match_the_full_engine(answers):
    full = score_answers(DEFINITION, answers)

    lean = dimension_levels(DEFINITION, answers)

    assert lean == tuple((d.score, d.level) for d in full.dimensions)
