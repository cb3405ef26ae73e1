"""Checking answers against questionnaire v1: every problem named by field and question id."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.errors import InvalidAnswers
from app.intake.schemas import AnswerIn
from app.intake.validation import Answer, check_answers
from app.questionnaire.answers import NA
from app.questionnaire.loader import load_file
from app.questionnaire.visibility import missing_required

DEFINITION = load_file(
    PROJECT_ROOT / "questionnaires" / "hospital-social-media" / "v1.yaml"
).definition

VALID = {"question_id": "co_owner", "value": "team"}


def items(*answers: dict[str, Any]) -> list[AnswerIn]:
    return [AnswerIn(**answer) for answer in answers]


def errors_of(*answers: dict[str, Any], **options: Any) -> list[dict[str, Any]]:
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(DEFINITION, items(*answers), **options)
    errors = caught.value.extra["errors"]
    assert all(set(e) == {"field", "question_id", "message"} for e in errors)
    return errors


def values(result: dict[str, Answer]) -> dict[str, Any]:
    return {qid: answer.value for qid, answer in result.items()}


# -- one problem each, placed after a valid answer so the index matters ------------------

PROBLEMS = [
    pytest.param(
        {"question_id": "pr_nonexistent", "value": "x"},
        "answers[1].question_id",
        "is not a question in this questionnaire version",
        id="unknown-question",
    ),
    pytest.param(
        {"question_id": "se_shared_logins", "value": "yes"},
        "answers[1].value",
        "expects true or false",
        id="text-for-yes-no",
    ),
    pytest.param(
        {"question_id": "se_shared_logins", "value": 1},
        "answers[1].value",
        "expects true or false",
        id="number-for-yes-no",
    ),
    pytest.param(
        {"question_id": "co_strategy", "value": ["written_current"]},
        "answers[1].value",
        "expects one option value",
        id="list-for-single-choice",
    ),
    pytest.param(
        {"question_id": "co_strategy", "value": True},
        "answers[1].value",
        "expects one option value",
        id="bool-for-single-choice",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": True},
        "answers[1].value",
        "expects a whole number from 1 to 5",
        id="bool-for-scale",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": 2.5},
        "answers[1].value",
        "expects a whole number from 1 to 5",
        id="fraction-for-scale",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": "3"},
        "answers[1].value",
        "expects a whole number from 1 to 5",
        id="text-for-scale",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": 2.5},
        "answers[1].value",
        "expects a whole number of posts per week",
        id="fraction-for-integer-number",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": "3"},
        "answers[1].value",
        "expects a number of posts per week",
        id="text-for-number",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": False},
        "answers[1].value",
        "expects a number of posts per week",
        id="bool-for-number",
    ),
    pytest.param(
        {"question_id": "pr_platforms", "value": "facebook"},
        "answers[1].value",
        "expects a list of option values",
        id="text-for-multiple-choice",
    ),
    pytest.param(
        {"question_id": "pr_platforms", "value": True},
        "answers[1].value",
        "expects a list of option values",
        id="bool-for-multiple-choice",
    ),
    pytest.param(
        {"question_id": "se_anything_else", "value": 5},
        "answers[1].value",
        "expects text",
        id="number-for-text",
    ),
    pytest.param(
        {"question_id": "se_anything_else", "value": "x" * 2001},
        "answers[1].value",
        "is 2001 characters long; at most 2000 are kept",
        id="text-too-long",
    ),
    pytest.param(
        {"question_id": "co_strategy", "value": "sometimes"},
        "answers[1].value",
        "'sometimes' is not an option",
        id="option-not-offered",
    ),
    pytest.param(
        {"question_id": "pr_platforms", "value": ["facebook", "myspace", "friendster"]},
        "answers[1].value",
        "'myspace', 'friendster' are not options",
        id="options-not-offered",
    ),
    pytest.param(
        {"question_id": "pr_platforms", "value": ["facebook", "facebook"]},
        "answers[1].value",
        "lists an option more than once",
        id="option-twice",
    ),
    pytest.param(
        {"question_id": "pr_platforms", "value": ["facebook", "none"]},
        "answers[1].value",
        "'none' cannot be combined with other options",
        id="exclusive-option-combined",
    ),
    pytest.param(
        {"question_id": "pr_platforms", "value": []},
        "answers[1].value",
        "choose at least one option (or 'none')",
        id="no-option-where-none-is-offered",
    ),
    pytest.param(
        {"question_id": "se_anything_else", "value": "   "},
        "answers[1].value",
        "is empty",
        id="blank-text",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": 0},
        "answers[1].value",
        "0 is outside the scale 1 to 5",
        id="scale-below-range",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": 6},
        "answers[1].value",
        "6 is outside the scale 1 to 5",
        id="scale-above-range",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": -1},
        "answers[1].value",
        "-1 is outside 0 to 100 posts per week",
        id="number-below-range",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": 101},
        "answers[1].value",
        "101 is outside 0 to 100 posts per week",
        id="number-above-range",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": 10**400},
        "answers[1].value",
        "is outside 0 to 100 posts per week",
        id="huge-integer-for-number",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": -(10**5000)},
        "answers[1].value",
        "is outside 0 to 100 posts per week",
        id="integer-too-long-to-print-for-number",
    ),
    pytest.param(
        {"question_id": "pr_posts_per_week", "value": 1e308},
        "answers[1].value",
        "1e+308 is outside 0 to 100 posts per week",
        id="huge-float-for-number",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": 10**400},
        "answers[1].value",
        "is outside the scale 1 to 5",
        id="huge-integer-for-scale",
    ),
    pytest.param(
        {"question_id": "co_coordination", "value": -1e308},
        "answers[1].value",
        "is outside the scale 1 to 5",
        id="huge-float-for-scale",
    ),
    pytest.param(
        {"question_id": "co_strategy", "na": True},
        "answers[1].na",
        "cannot be answered 'not applicable'",
        id="na-where-not-allowed",
    ),
    pytest.param(
        {"question_id": "pr_podcast", "na": True, "value": "regular"},
        "answers[1].na",
        "give either a value or na: true, not both",
        id="na-with-a-value",
    ),
    pytest.param(
        {"question_id": "co_strategy_approved", "value": True},
        "answers[1]",
        "is not asked with these answers: it is asked only when co_strategy any of",
        id="answer-to-a-follow-up-that-is-not-asked",
    ),
    pytest.param(
        {"question_id": "co_owner", "value": "nobody"},
        "answers[1]",
        "is answered twice (also at answers[0])",
        id="question-answered-twice",
    ),
]


@pytest.mark.parametrize(("answer", "field", "message"), PROBLEMS)
def test_problem_is_reported_with_its_field_and_question_id(answer, field, message):
    errors = errors_of(VALID, answer)

    assert [(e["field"], e["question_id"]) for e in errors] == [(field, answer["question_id"])]
    assert message in errors[0]["message"]
    assert errors[0]["message"].startswith(f"{answer['question_id']}: ")


def test_huge_numbers_never_raise_anything_but_invalid_answers():
    for value in (10**400, -(10**400), 10**5000, 1e308, -1e308, 2**63):
        for qid in ("pr_posts_per_week", "co_coordination", "se_offboarding_hours"):
            errors = errors_of({"question_id": qid, "value": value})
            assert [e["question_id"] for e in errors] == [qid]
            assert len(errors[0]["message"]) < 200


def test_every_problem_in_a_request_is_reported_at_once():
    errors = errors_of(
        {"question_id": "co_strategy", "value": "sometimes"},
        VALID,
        {"question_id": "pr_nonexistent", "value": 1},
        {"question_id": "co_strategy_approved", "value": True},
        {"question_id": "pr_podcast", "na": True},
        {"question_id": "se_shared_logins", "na": True},
    )

    assert [(e["field"], e["question_id"]) for e in errors] == [
        ("answers[0].value", "co_strategy"),
        ("answers[2].question_id", "pr_nonexistent"),
        ("answers[5].na", "se_shared_logins"),
    ]


def test_error_detail_counts_the_problems_and_names_the_version():
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(DEFINITION, items({"question_id": "x", "value": 1}, {"question_id": "y"}))

    assert caught.value.status_code == 422
    assert caught.value.detail == (
        "2 answers do not fit questionnaire 'hospital-social-media' version 1."
    )


def test_a_follow_up_of_a_wrong_answer_is_not_also_reported_as_not_asked():
    errors = errors_of(
        {"question_id": "co_strategy", "value": "written_soon"},
        {"question_id": "co_strategy_approved", "value": True},
    )

    assert [(e["field"], e["question_id"]) for e in errors] == [("answers[0].value", "co_strategy")]


def test_a_wrong_answer_is_not_also_reported_as_missing_on_submit():
    answers = complete_answers()
    answers["co_strategy"] = "written_soon"

    errors = errors_of(*as_items(answers), submitting=True)

    assert [e["question_id"] for e in errors] == ["co_strategy"]


# -- accepted values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qid", "given", "stored"),
    [
        ("co_strategy", "written_current", "written_current"),
        ("se_shared_logins", False, False),
        ("co_coordination", 3, 3),
        ("co_coordination", 3.0, 3),
        ("pr_posts_per_week", 0, 0),
        ("pr_posts_per_week", 100, 100),
        ("pr_posts_per_week", 5.0, 5),
        ("pr_platforms", ["youtube", "facebook"], ["facebook", "youtube"]),
        ("pr_platforms", ["none"], ["none"]),
        ("se_anything_else", "x" * 2000, "x" * 2000),
    ],
)
def test_valid_value_is_kept_in_canonical_form(qid, given, stored):
    result = check_answers(DEFINITION, items({"question_id": qid, "value": given}))

    assert values(result) == {qid: stored}
    assert type(result[qid].value) is type(stored)


def test_not_applicable_where_allowed_is_kept_as_na_with_its_comment():
    result = check_answers(
        DEFINITION, items({"question_id": "pr_podcast", "na": True, "comment": "No podcast."})
    )

    assert result == {"pr_podcast": Answer(NA, "No podcast.")}


def test_an_asked_follow_up_is_accepted():
    result = check_answers(
        DEFINITION,
        items(
            {"question_id": "co_strategy_approved", "value": True},
            {"question_id": "co_strategy", "value": "written_dated"},
        ),
    )

    assert values(result) == {"co_strategy": "written_dated", "co_strategy_approved": True}


# -- submitting ----------------------------------------------------------------------------


def complete_answers() -> dict[str, Any]:
    """A complete, valid set: the worst option everywhere, so no follow-up is asked."""
    answers: dict[str, Any] = {}
    for question in DEFINITION.questions:
        if question.show_if is not None:
            continue
        match question.type:
            case "single_choice":
                answers[question.id] = question.options[0].value
            case "multiple_choice":
                answers[question.id] = [question.options[0].value]
            case "yes_no":
                answers[question.id] = False
            case "scale" | "number":
                answers[question.id] = question.min
            case "text":
                answers[question.id] = "Nothing to add."
    return answers


def as_items(answers: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"question_id": qid, "value": value} for qid, value in answers.items()]


def test_complete_answers_can_be_submitted():
    answers = complete_answers()

    result = check_answers(DEFINITION, items(*as_items(answers)), submitting=True)

    assert values(result) == answers


def test_each_missing_required_question_is_reported_on_submit():
    answers = complete_answers()
    for qid in ("co_owner", "se_policy", "pr_reach"):
        del answers[qid]
    answers["se_anything_else"] = None  # cleared; it is optional
    answers["co_strategy"] = "written_current"  # now co_strategy_approved is asked

    errors = errors_of(*as_items(answers), submitting=True)

    assert [(e["field"], e["question_id"]) for e in errors] == [
        ("answers", "pr_reach"),
        ("answers", "co_strategy_approved"),
        ("answers", "co_owner"),
        ("answers", "se_policy"),
    ]
    assert all("is required before submitting" in e["message"] for e in errors)


def test_missing_required_answers_are_fine_in_a_draft():
    result = check_answers(DEFINITION, items(VALID))

    assert values(result) == {"co_owner": "team"}
    assert missing_required(DEFINITION, values(result))


def test_not_applicable_counts_as_an_answer_on_submit():
    answers = complete_answers()
    del answers["pr_podcast"]

    result = check_answers(
        DEFINITION,
        items(*as_items(answers), {"question_id": "pr_podcast", "na": True}),
        submitting=True,
    )

    assert result["pr_podcast"].value is NA


def test_submitting_merged_answers_checks_the_merge():
    existing = {qid: Answer(v) for qid, v in complete_answers().items()}

    result = check_answers(DEFINITION, items(VALID), existing=existing, submitting=True)

    assert result["co_owner"].value == "team"
    errors = errors_of({"question_id": "co_owner"}, existing=existing, submitting=True)
    assert [(e["field"], e["question_id"]) for e in errors] == [("answers", "co_owner")]


# -- merging with stored answers -------------------------------------------------------------


def test_given_answers_replace_stored_ones_and_the_others_stay():
    existing = {
        "co_owner": Answer("named_part_time", "Only Kim."),
        "co_coordination": Answer(2),
        "pr_podcast": Answer(NA),
    }

    result = check_answers(
        DEFINITION,
        items(
            {"question_id": "co_owner", "value": "team", "comment": "Now three people."},
            {"question_id": "pr_podcast", "value": "regular"},
        ),
        existing=existing,
    )

    assert result == {
        "pr_podcast": Answer("regular"),
        "co_owner": Answer("team", "Now three people."),
        "co_coordination": Answer(2),
    }
    assert existing["co_owner"] == Answer("named_part_time", "Only Kim.")


def test_an_item_with_neither_value_nor_na_clears_the_stored_answer():
    existing = {"co_owner": Answer("team"), "co_coordination": Answer(2)}

    result = check_answers(DEFINITION, items({"question_id": "co_owner"}), existing=existing)

    assert values(result) == {"co_coordination": 2}


def test_a_stored_follow_up_hidden_by_the_new_answers_is_dropped_silently():
    existing = {
        "co_strategy": Answer("written_current"),
        "co_strategy_approved": Answer(True),
        "se_incident_plan": Answer(True),
        "se_incident_exercised": Answer("within_year"),
    }

    result = check_answers(
        DEFINITION,
        items({"question_id": "co_strategy", "value": "informal"}),
        existing=existing,
    )

    assert values(result) == {
        "co_strategy": "informal",
        "se_incident_plan": True,
        "se_incident_exercised": "within_year",
    }


def test_clearing_a_parent_drops_its_stored_follow_up():
    existing = {"se_incident_plan": Answer(True), "se_incident_exercised": Answer("never")}

    result = check_answers(
        DEFINITION, items({"question_id": "se_incident_plan"}), existing=existing
    )

    assert result == {}


def test_a_follow_up_may_be_answered_against_a_stored_parent():
    existing = {"se_incident_plan": Answer(True)}

    result = check_answers(
        DEFINITION,
        items({"question_id": "se_incident_exercised", "value": "never"}),
        existing=existing,
    )

    assert values(result) == {"se_incident_plan": True, "se_incident_exercised": "never"}


def test_an_invalid_item_leaves_the_stored_answers_untouched():
    existing = {"co_owner": Answer("team")}

    errors = errors_of({"question_id": "co_owner", "value": "boss"}, existing=existing)

    assert [e["field"] for e in errors] == ["answers[0].value"]
    assert existing == {"co_owner": Answer("team")}


def test_result_is_in_questionnaire_order():
    given = [
        {"question_id": "se_anything_else", "value": "Last."},
        {"question_id": "co_owner", "value": "team"},
        {"question_id": "pr_official_accounts", "value": "none"},
    ]
    existing = {"pr_reach": Answer("unknown"), "se_policy": Answer("none")}

    result = check_answers(DEFINITION, items(*given), existing=existing)

    order = [q.id for q in DEFINITION.questions]
    assert list(result) == sorted(result, key=order.index)
    assert list(result) == [
        "pr_official_accounts",
        "pr_reach",
        "co_owner",
        "se_policy",
        "se_anything_else",
    ]


def test_field_prefix_can_be_chosen():
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(
            DEFINITION, items({"question_id": "co_owner", "value": 3}), field="body.answers"
        )

    assert caught.value.extra["errors"][0]["field"] == "body.answers[0].value"
