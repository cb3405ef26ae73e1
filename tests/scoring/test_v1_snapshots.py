"""Version-1 assessments keep their scores exactly, whatever later versions change.

tests/scoring/snapshots/v1-scores.json holds, for both example hospitals and a fixed set
of generated answer sets, the answers and the score JSON the engine gave them before the
questionnaire format gained version 2. Each must score to the same bytes today.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.questionnaire.answers import NA, AnswerValue
from app.questionnaire.loader import load_file
from app.scoring.engine import score_answers

SNAPSHOT = Path(__file__).parent / "snapshots" / "v1-scores.json"
CASES: list[dict[str, Any]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["cases"]
DEFINITION = load_file(
    PROJECT_ROOT / "questionnaires" / "hospital-social-media" / "v1.yaml"
).definition


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def answers_of(items: list[dict[str, Any]]) -> dict[str, AnswerValue]:
    return {a["question_id"]: NA if a.get("na") else a["value"] for a in items}


def test_the_snapshot_covers_both_examples_and_generated_answer_sets():
    names = [case["name"] for case in CASES]

    assert "example community-hospital" in names
    assert "example academic-medical-center" in names
    assert sum(name.startswith("complete answer set") for name in names) >= 20
    assert sum(name.startswith("draft answer set") for name in names) >= 10


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_a_version_1_assessment_scores_byte_identically(case):
    score = score_answers(DEFINITION, answers_of(case["answers"])).to_dict()

    assert canonical(score) == canonical(case["score"])
