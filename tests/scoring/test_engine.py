"""The scoring engine, case by case, on a small definition built for each rule.

Dimension ``alpha`` (thresholds 20/40/60/80) has one question of each scored type; its
single-choice question gates level 3 and its yes/no question gates level 5. Dimension
``beta`` (weight 2) gates level 2.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from app.questionnaire.answers import NA, describe_answer
from app.questionnaire.loader import parse_definition
from app.questionnaire.schemas import QuestionnaireDefinition, ScaleQuestion
from app.questionnaire.visibility import missing_required, visible_questions
from app.scoring.engine import question_score, score_answers


def small_definition(
    extra_questions: tuple[dict[str, Any], ...] = (), **top: Any
) -> QuestionnaireDefinition:
    data: dict[str, Any] = {
        "id": "small",
        "version": 1,
        "title": "Small",
        "description": "For engine tests.",
        "publisher": "Tests",
        "levels": [
            {"level": n, "name": name, "description": f"Level {n}."}
            for n, name in enumerate(["Initial", "Developing", "Defined", "Managed", "Top"], 1)
        ],
        "dimensions": [
            {
                "id": "alpha",
                "title": "Alpha",
                "description": "Alpha.",
                "thresholds": {2: 20, 3: 40, 4: 60, 5: 80},
            },
            {
                "id": "beta",
                "title": "Beta",
                "description": "Beta.",
                "weight": 2,
                "thresholds": {2: 20, 3: 40, 4: 60, 5: 80},
            },
        ],
        "questions": [
            {
                "id": "a_choice",
                "dimension": "alpha",
                "type": "single_choice",
                "prompt": "Is there a written plan?",
                "help": "h",
                "allow_na": True,
                "na_label": "We have no plan to write.",
                "options": [
                    {"value": "none", "label": "No plan", "score": 0},
                    {"value": "some", "label": "Part of a plan", "score": 50},
                    {"value": "all", "label": "A full plan", "score": 100},
                ],
                "gates": [{"level": 3, "min_score": 50}],
            },
            {
                "id": "a_follow",
                "dimension": "alpha",
                "type": "yes_no",
                "prompt": "Is the plan approved?",
                "help": "h",
                "weight": 3,
                "show_if": {"question": "a_choice", "equals": "all"},
            },
            {
                "id": "a_multi",
                "dimension": "alpha",
                "type": "multiple_choice",
                "prompt": "Which channels?",
                "help": "h",
                "options": [
                    {"value": "x", "label": "X", "score": 60},
                    {"value": "y", "label": "Y", "score": 60},
                    {"value": "z", "label": "Z", "score": 30},
                    {"value": "nothing", "label": "Nothing", "score": 0, "exclusive": True},
                ],
            },
            {
                "id": "a_scale",
                "dimension": "alpha",
                "type": "scale",
                "prompt": "How well?",
                "help": "h",
                "labels": {1: "Badly", 5: "Very well"},
            },
            {
                "id": "a_number",
                "dimension": "alpha",
                "type": "number",
                "prompt": "How many?",
                "help": "h",
                "max": 100,
                "integer": False,
                "unit": "things",
                "bands": [
                    {"at_least": 0, "score": 0},
                    {"at_least": 10, "score": 50},
                    {"at_least": 20, "score": 100},
                ],
            },
            {
                "id": "a_yes",
                "dimension": "alpha",
                "type": "yes_no",
                "prompt": "Is it tested?",
                "help": "h",
                "gates": [{"level": 5, "min_score": 100}],
            },
            {
                "id": "a_notes",
                "dimension": "alpha",
                "type": "text",
                "prompt": "Notes?",
                "help": "h",
            },
            {
                "id": "b_one",
                "dimension": "beta",
                "type": "single_choice",
                "prompt": "Beta one?",
                "help": "h",
                "options": [
                    {"value": "bad", "label": "Bad", "score": 0},
                    {"value": "ok", "label": "OK", "score": 50},
                    {"value": "good", "label": "Good", "score": 100},
                ],
                "gates": [{"level": 2, "min_score": 50}],
            },
            {
                "id": "b_two",
                "dimension": "beta",
                "type": "yes_no",
                "prompt": "Beta two?",
                "help": "h",
            },
        ],
    }
    data["questions"].extend(extra_questions)
    data.update(top)
    return parse_definition(yaml.safe_dump(data, sort_keys=False), "small/v1.yaml")


DEFINITION = small_definition()

BEST_ALPHA = {
    "a_choice": "all",
    "a_follow": True,
    "a_multi": ["x", "y"],
    "a_scale": 5,
    "a_number": 50,
    "a_yes": True,
    "a_notes": "Fine.",
}
BEST_BETA = {"b_one": "good", "b_two": True}


def alpha(**changes: Any) -> Any:
    """Alpha's result for the best answers with some changed (None: left unanswered)."""
    answers = {**BEST_ALPHA, **BEST_BETA, **changes}
    answers = {qid: value for qid, value in answers.items() if value is not None}
    return score_answers(DEFINITION, answers).dimension("alpha")


# -- gates ---------------------------------------------------------------------------------


def test_a_failed_level_3_gate_caps_the_level_at_2_even_with_a_level_5_score():
    result = alpha(a_choice="none", a_follow=None)  # a_follow is not asked then

    assert result.score == pytest.approx((0 + 100 * 4) / 5)
    assert result.level_by_score == 5
    assert result.level == 2
    assert result.level_name == "Developing"


def test_a_failed_level_5_gate_caps_the_level_at_4():
    result = alpha(a_yes=False)

    assert result.level_by_score == 5
    assert result.level == 4


def test_gates_are_cumulative_a_met_higher_gate_does_not_lift_a_failed_lower_one():
    both = alpha(a_choice="none", a_follow=None, a_yes=False)
    lower_only = alpha(a_choice="none", a_follow=None)

    assert both.level == lower_only.level == 2
    assert [g.level for g in both.failed_gates] == [3, 5]


def test_a_gate_is_met_by_not_applicable():
    result = alpha(a_choice=NA, a_follow=None)

    assert result.failed_gates == ()
    assert result.level == 5


def test_an_unanswered_gate_question_fails_its_gate():
    answers = {k: v for k, v in BEST_ALPHA.items() if k not in ("a_choice", "a_follow")}

    result = score_answers(DEFINITION, answers).dimension("alpha")

    [gate] = result.failed_gates
    assert (gate.question_id, gate.score, gate.answer) == ("a_choice", None, "Not answered")
    assert result.level == 2


def test_a_failed_gate_names_its_question_prompt_answer_and_minimum():
    result = alpha(a_choice="none", a_follow=None)

    [gate] = result.failed_gates
    assert gate.level == 3
    assert gate.question_id == "a_choice"
    assert gate.prompt == "Is there a written plan?"
    assert gate.min_score == 50
    assert gate.score == 0
    assert gate.answer == "No plan"
    assert gate.met is False


def test_failed_gates_are_listed_by_level_then_question():
    result = score_answers(DEFINITION, {"a_choice": "none", "a_yes": False, "b_one": "bad"})

    assert [(g.level, g.question_id) for g in result.dimension("alpha").failed_gates] == [
        (3, "a_choice"),
        (5, "a_yes"),
    ]
    assert [g.question_id for g in result.dimension("beta").failed_gates] == ["b_one"]


def test_summary_of_a_gate_capped_level_names_the_failed_gate():
    result = alpha(a_choice="none", a_follow=None)

    assert result.summary.startswith("Level 2 (Developing): the score of 80 reaches")
    assert "threshold for level 5" in result.summary
    assert "level 3 needs every one of its gates" in result.summary
    assert "Is there a written plan? (a_choice)" in result.summary
    assert "No plan" in result.summary


def test_summary_of_a_level_reached_by_score():
    result = alpha(
        a_choice="some", a_follow=None, a_multi=["z"], a_scale=2, a_number=0, a_yes=False
    )

    assert result.score == pytest.approx((50 + 30 + 25 + 0 + 0) / 5)
    assert result.level == 2
    assert result.summary == (
        "Level 2 (Developing): the score of 21 meets level 2's threshold (20); "
        "level 3 needs 40. Every gate up to this level is met."
    )


def test_summary_when_nothing_in_the_dimension_is_answered():
    result = score_answers(DEFINITION, {}).dimension("beta")

    assert result.level == 1
    assert result.score == 0
    assert "no scored question in this dimension has been answered" in result.summary


# -- next level ------------------------------------------------------------------------


def test_next_level_lists_the_points_and_the_gates_needed():
    result = alpha(a_choice="none", a_follow=None, a_multi=["z"], a_number=10, a_yes=False)

    assert result.score == pytest.approx((0 + 30 + 100 + 50 + 0) / 5)
    assert result.level == 2
    step = result.next_level
    assert (step.level, step.name, step.score_needed) == (3, "Defined", 40)
    assert step.points_short == pytest.approx(4)
    assert [g.question_id for g in step.gates_to_meet] == ["a_choice"]
    assert step.summary == (
        "To reach level 3 (Defined): raise the score from 36 to 40 (4 points) and "
        "meet 1 gate: Is there a written plan? (a_choice)."
    )


def test_next_level_of_a_gate_capped_dimension_needs_only_the_gate():
    step = alpha(a_choice="none", a_follow=None).next_level

    assert step.level == 3
    assert step.points_short == 0
    assert [g.question_id for g in step.gates_to_meet] == ["a_choice"]
    assert "raise the score" not in step.summary


def test_points_short_are_rounded_up_to_a_tenth():
    result = score_answers(
        DEFINITION, {"a_choice": "some", "a_multi": [], "a_scale": 5, "a_yes": False}
    )
    dimension = result.dimension("alpha")

    assert dimension.score == pytest.approx(37.5)
    assert dimension.next_level.points_short == pytest.approx(2.5)
    result = score_answers(DEFINITION, {"a_choice": "some", "a_multi": ["x"], "a_scale": 1})
    dimension = result.dimension("alpha")
    # (50 + 60 + 0) / 3 = 36.67 is shown, and judged, as 36.7: 3.3 short of 40.
    assert dimension.score == pytest.approx(36.7)
    assert dimension.next_level.points_short == pytest.approx(3.3)


def test_there_is_no_next_level_at_level_5():
    result = alpha()

    assert result.level == 5
    assert result.next_level is None
    assert "every gate is met" in result.summary


# -- strongest and weakest answers --------------------------------------------------------


def test_strongest_and_weakest_answers_are_ordered_by_score_then_weight():
    result = alpha(a_scale=4, a_number=10, a_yes=False)

    assert [(n.question_id, n.score) for n in result.strongest] == [
        ("a_follow", 100),  # weight 3 before the weight-1 answers with the same score
        ("a_choice", 100),
        ("a_multi", 100),
    ]
    assert [(n.question_id, n.score) for n in result.weakest] == [
        ("a_yes", 0),
        ("a_number", 50),
        ("a_scale", 75),
    ]
    assert result.weakest[1].answer == "10 things"
    assert result.weakest[2].answer == "4 of 1-5"
    assert result.weakest[1].prompt == "How many?"


# -- what counts -----------------------------------------------------------------------


def test_answers_to_hidden_follow_ups_are_ignored():
    with_hidden = score_answers(DEFINITION, {"a_choice": "some", "a_follow": False})
    without = score_answers(DEFINITION, {"a_choice": "some"})

    assert with_hidden.to_dict() == without.to_dict()
    assert with_hidden.dimension("alpha").score == 50
    assert with_hidden.dimension("alpha").answered == 1


def test_an_asked_follow_up_counts():
    result = score_answers(DEFINITION, {"a_choice": "all", "a_follow": False})

    assert result.dimension("alpha").score == pytest.approx((100 * 1 + 0 * 3) / 4)
    assert result.dimension("alpha").answered == 2


def test_free_text_is_kept_out_of_the_score():
    with_text = score_answers(DEFINITION, {"a_choice": "some", "a_notes": "Anything."})

    assert with_text.dimension("alpha").score == 50
    assert with_text.dimension("alpha").answered == 1


def test_answered_and_applicable_counts():
    result = score_answers(DEFINITION, {"a_choice": NA, "a_multi": ["z"], "a_yes": True})
    dimension = result.dimension("alpha")

    # Asked and scored: a_choice (N/A), a_multi, a_scale, a_number, a_yes.
    assert dimension.applicable == 4
    assert dimension.answered == 2
    assert dimension.score == pytest.approx(65)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["x"], 60),
        (["x", "z"], 90),
        (["x", "y"], 100),  # 120, capped
        (["x", "y", "z"], 100),  # 150, capped
        (["nothing"], 0),
        ([], 0),
    ],
)
def test_multiple_choice_is_the_sum_of_the_chosen_options_capped_at_100(value, expected):
    assert question_score(DEFINITION.question("a_multi"), value) == expected


@pytest.mark.parametrize(("point", "expected"), [(1, 0), (2, 25), (3, 50), (4, 75), (5, 100)])
def test_scale_scores_linearly_from_0_to_100(point, expected):
    assert question_score(DEFINITION.question("a_scale"), point) == expected


def test_scale_with_another_range_is_linear_too():
    question = ScaleQuestion(
        id="s", dimension="alpha", prompt="p", help="h", type="scale", min=0, max=3
    )

    assert [question_score(question, p) for p in range(4)] == pytest.approx(
        [0, 100 / 3, 200 / 3, 100]
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (9, 0), (9.99, 0), (10, 50), (19.5, 50), (20, 100), (100, 100)],
)
def test_number_scores_by_the_band_it_falls_in(value, expected):
    assert question_score(DEFINITION.question("a_number"), value) == expected


@pytest.mark.parametrize(
    ("qid", "value", "expected"),
    [
        ("a_choice", "none", 0),
        ("a_choice", "some", 50),
        ("a_choice", "all", 100),
        ("a_yes", True, 100),
        ("a_yes", False, 0),
        ("a_choice", NA, None),
        ("a_notes", "text", None),
    ],
)
def test_question_score(qid, value, expected):
    assert question_score(DEFINITION.question(qid), value) == expected


@pytest.mark.parametrize(
    ("qid", "value", "expected"),
    [
        ("a_choice", "some", "Part of a plan"),
        ("a_choice", NA, "We have no plan to write."),
        ("a_yes", NA, "Not applicable"),
        ("a_multi", ["x", "z"], "X; Z"),
        ("a_multi", [], "None selected"),
        ("a_yes", True, "Yes"),
        ("a_yes", False, "No"),
        ("a_scale", 5, "5 of 1-5 (Very well)"),
        ("a_scale", 3, "3 of 1-5"),
        ("a_number", 12.5, "12.5 things"),
        ("a_notes", "As is.", "As is."),
    ],
)
def test_describe_answer(qid, value, expected):
    assert describe_answer(DEFINITION.question(qid), value) == expected


# -- overall level ---------------------------------------------------------------------


def test_overall_level_is_the_weakest_dimension_by_default():
    result = score_answers(DEFINITION, {**BEST_ALPHA, "b_one": "ok", "b_two": False})

    assert result.levels == {"alpha": 5, "beta": 2}
    assert result.overall_level == 2
    assert result.overall_level_name == "Developing"


def test_overall_level_can_be_the_weighted_mean_of_levels_rounded_down():
    definition = small_definition(overall_level="mean")

    result = score_answers(definition, {**BEST_ALPHA, "b_one": "good", "b_two": False})

    # alpha 5 (weight 1), beta 3 (score 50, weight 2): (5 + 6) / 3 = 3.67 -> 3
    assert result.levels == {"alpha": 5, "beta": 3}
    assert result.overall_level == 3


def test_overall_score_is_the_weighted_mean_of_dimension_scores():
    result = score_answers(DEFINITION, {**BEST_ALPHA, "b_one": "good", "b_two": False})

    assert result.overall_score == pytest.approx((100 * 1 + 50 * 2) / 3, abs=0.05)


# -- completeness and visibility --------------------------------------------------------


def test_complete_needs_every_required_asked_question_and_counts_na_as_answered():
    answers = {**BEST_ALPHA, **BEST_BETA, "a_choice": NA}
    del answers["a_follow"]  # not asked once a_choice is N/A

    assert score_answers(DEFINITION, answers).complete
    assert missing_required(DEFINITION, answers) == []
    del answers["a_notes"]
    assert not score_answers(DEFINITION, answers).complete
    assert [q.id for q in missing_required(DEFINITION, answers)] == ["a_notes"]


def test_a_follow_up_is_asked_only_when_its_condition_holds():
    base = {"a_choice": "all"}

    assert "a_follow" in visible_questions(DEFINITION, base)
    assert "a_follow" not in visible_questions(DEFINITION, {"a_choice": "some"})
    assert "a_follow" not in visible_questions(DEFINITION, {"a_choice": NA})
    assert "a_follow" not in visible_questions(DEFINITION, {})
    assert "a_follow" in [q.id for q in missing_required(DEFINITION, base)]


def test_result_names_the_engine_and_questionnaire_version():
    result = score_answers(DEFINITION, {})

    assert (result.questionnaire_id, result.questionnaire_version) == ("small", 1)
    assert result.engine_version
    assert result.to_dict()["dimensions"][0]["dimension_id"] == "alpha"


def test_a_follow_up_of_a_follow_up_is_asked_only_when_its_parent_is_asked():
    grandchild = {
        "id": "b_why",
        "dimension": "beta",
        "type": "text",
        "prompt": "Who approved it?",
        "help": "h",
        "show_if": {"question": "a_follow", "equals": True},
    }
    definition = small_definition(extra_questions=(grandchild,))

    asked = visible_questions(definition, {"a_choice": "all", "a_follow": True})
    # A stale answer to a_follow does not ask b_why once a_follow itself is not asked.
    stale = visible_questions(definition, {"a_choice": "some", "a_follow": True})

    assert {"a_follow", "b_why"} <= asked
    assert not {"a_follow", "b_why"} & stale
    assert "b_why" not in [
        q.id for q in missing_required(definition, {"a_choice": "some", "a_follow": True})
    ]
