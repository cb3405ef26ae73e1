"""The strict questionnaire loader: every problem in a file, each with its file, line and path.

Each table case starts from a small valid definition built here, breaks one thing, and
checks that exactly that thing is reported, at the right place.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.questionnaire.loader import (
    DefinitionError,
    Problem,
    content_hash,
    load_directory,
    load_file,
    parse_definition,
)
from app.questionnaire.schemas import QuestionType

FILE = "questionnaires/tiny/v1.yaml"


def valid_definition() -> dict[str, Any]:
    """A small definition that passes every check: one dimension, one question per type."""
    return {
        "id": "tiny",
        "version": 1,
        "title": "Tiny questionnaire",
        "description": "A definition small enough to break one piece at a time.",
        "publisher": "Tests",
        "levels": [
            {"level": n, "name": f"Level {n}", "description": f"What level {n} means."}
            for n in range(1, 6)
        ],
        "dimensions": [
            {
                "id": "alpha",
                "title": "Alpha",
                "description": "The only dimension.",
                "thresholds": {2: 20, 3: 40, 4: 60, 5: 80},
            }
        ],
        "questions": [
            {  # 0
                "id": "q_choice",
                "dimension": "alpha",
                "type": "single_choice",
                "prompt": "Pick one.",
                "help": "Help for the choice.",
                "options": [
                    {"value": "c_none", "label": "None", "score": 0},
                    {"value": "c_some", "label": "Some", "score": 50},
                    {"value": "c_all", "label": "All", "score": 100},
                ],
                "gates": [{"level": 3, "min_score": 50}],
            },
            {  # 1
                "id": "q_multi",
                "dimension": "alpha",
                "type": "multiple_choice",
                "prompt": "Pick any.",
                "help": "Help for the multiple choice.",
                "options": [
                    {"value": "m_a", "label": "A", "score": 30},
                    {"value": "m_b", "label": "B", "score": 40},
                    {"value": "m_none", "label": "Neither", "score": 0, "exclusive": True},
                ],
            },
            {  # 2
                "id": "q_yes",
                "dimension": "alpha",
                "type": "yes_no",
                "prompt": "Yes or no?",
                "help": "Help for the yes/no question.",
            },
            {  # 3
                "id": "q_scale",
                "dimension": "alpha",
                "type": "scale",
                "prompt": "How much?",
                "help": "Help for the scale.",
                "labels": {1: "Not at all", 5: "Completely"},
            },
            {  # 4
                "id": "q_number",
                "dimension": "alpha",
                "type": "number",
                "prompt": "How many?",
                "help": "Help for the number.",
                "max": 100,
                "unit": "things",
                "bands": [
                    {"at_least": 0, "score": 0},
                    {"at_least": 10, "score": 50},
                    {"at_least": 20, "score": 100},
                ],
            },
            {  # 5
                "id": "q_followup",
                "dimension": "alpha",
                "type": "yes_no",
                "prompt": "And is it approved?",
                "help": "Help for the follow-up.",
                "show_if": {"question": "q_choice", "any_of": ["c_some", "c_all"]},
            },
            {  # 6
                "id": "q_notes",
                "dimension": "alpha",
                "type": "text",
                "prompt": "Anything else?",
                "help": "Help for the notes.",
                "required": False,
            },
        ],
    }


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def line_of(text: str, pattern: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line matching a regular expression."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]
    assert len(found) >= occurrence, f"{pattern!r} occurs {len(found)} times"
    return found[occurrence - 1]


def problems_of(text: str, file: str = FILE) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, file)
    return caught.value.problems


def question(data: dict[str, Any], qid: str) -> dict[str, Any]:
    return next(q for q in data["questions"] if q["id"] == qid)


def test_the_valid_definition_loads_with_every_question_type():
    definition = parse_definition(dump(valid_definition()), FILE)

    assert {q.type for q in definition.questions} == set(QuestionType)
    assert definition.question("q_followup").show_if.any_of == ("c_some", "c_all")
    assert definition.dimensions[0].thresholds.as_tuple() == (0, 20, 40, 60, 80)


# -- one broken thing each ---------------------------------------------------------------

Break = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], value: Any) -> Break:
    def apply(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return apply


def _drop_level(data: dict[str, Any]) -> None:
    data["levels"].pop()


BROKEN = [
    pytest.param(
        _set(("questions", 2, "colour"), "red"),
        "questions[2].colour",
        "unknown key 'colour'",
        (r"^\s+colour: red$", 1),
        id="unknown-key",
    ),
    pytest.param(
        _set(("dimensions", 0, "weighting"), 2),
        "dimensions[0].weighting",
        "unknown key 'weighting'",
        (r"^\s+weighting: 2$", 1),
        id="unknown-key-in-dimension",
    ),
    pytest.param(
        _set(("questions", 3, "id"), "q_yes"),
        "questions[3].id",
        "duplicate question id 'q_yes'",
        (r"id: q_yes$", 2),
        id="duplicate-question-id",
    ),
    pytest.param(
        _set(("questions", 0, "options", 0, "value"), "c_some"),
        "questions[0].options[1].value",
        "duplicate option value 'c_some'",
        (r"value: c_some$", 2),
        id="duplicate-option-value",
    ),
    pytest.param(
        _set(("questions", 0, "options", 1, "score"), 120),
        "questions[0].options[1].score",
        "less than or equal to 100",
        (r"score: 120$", 1),
        id="option-score-above-100",
    ),
    pytest.param(
        _set(("questions", 1, "options", 0, "score"), -5),
        "questions[1].options[0].score",
        "greater than or equal to 0",
        (r"score: -5$", 1),
        id="option-score-below-0",
    ),
    pytest.param(
        _set(("questions", 5, "show_if", "question"), "q_ghost"),
        "questions[5].show_if.question",
        "'q_ghost' is not an earlier question",
        (r"question: q_ghost$", 1),
        id="show-if-names-a-missing-question",
    ),
    pytest.param(
        _set(("questions", 2, "show_if"), {"question": "q_scale", "at_least": 3}),
        "questions[2].show_if.question",
        "'q_scale' is not an earlier question",
        (r"question: q_scale$", 1),
        id="show-if-names-a-later-question",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_choice", "at_least": 2}),
        "questions[5].show_if.at_least",
        "at_least applies to scale, number questions; 'q_choice' is single_choice",
        (r"at_least: 2$", 1),
        id="show-if-at-least-on-single-choice",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_yes", "equals": "yes"}),
        "questions[5].show_if.equals",
        "compare with true or false",
        (r"equals: 'yes'$", 1),
        id="show-if-text-on-yes-no",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_multi", "any_of": ["m_a"]}),
        "questions[5].show_if.any_of",
        "any_of applies to single_choice questions; 'q_multi' is multiple_choice",
        (r"any_of:$", 1),
        id="show-if-any-of-on-multiple-choice",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_choice", "equals": "c_maybe"}),
        "questions[5].show_if.equals",
        "'c_maybe' is not an option of 'q_choice'",
        (r"equals: c_maybe$", 1),
        id="show-if-unknown-option",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_choice", "includes": "c_all"}),
        "questions[5].show_if.includes",
        "includes applies to multiple_choice questions",
        (r"includes: c_all$", 1),
        id="show-if-includes-on-single-choice",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_scale", "equals": 9}),
        "questions[5].show_if.equals",
        "9 is not a point on the scale of 'q_scale' (1..5)",
        (r"equals: 9$", 1),
        id="show-if-point-off-the-scale",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_choice"}),
        "questions[5].show_if",
        "give exactly one of equals, any_of, includes, at_least",
        (r"^\s+show_if:$", 1),
        id="show-if-without-operator",
    ),
    pytest.param(
        _set(("dimensions", 0, "thresholds"), {2: 20, 3: 40, 4: 40, 5: 80}),
        "dimensions[0].thresholds.4",
        "thresholds must increase with the level: level 4 needs 40",
        (r"^\s+4: 40$", 1),
        id="thresholds-not-increasing",
    ),
    pytest.param(
        _set(("dimensions", 0, "thresholds"), {2: 20, 3: 40, 4: 60, 5: 130}),
        "dimensions[0].thresholds.5",
        "less than or equal to 100",
        (r"^\s+5: 130$", 1),
        id="threshold-above-100",
    ),
    pytest.param(
        _set(("dimensions", 0, "thresholds"), {2: 20, 3: 40, 4: 60}),
        "dimensions[0].thresholds.5",
        "Field required",
        (r"^\s+thresholds:$", 1),
        id="threshold-missing",
    ),
    pytest.param(
        _set(("questions", 0, "gates"), [{"level": 1, "min_score": 50}]),
        "questions[0].gates[0].level",
        "greater than or equal to 2",
        (r"level: 1$", 2),  # the first is levels[0]
        id="gate-level-1",
    ),
    pytest.param(
        _set(("questions", 0, "gates"), [{"level": 6, "min_score": 50}]),
        "questions[0].gates[0].level",
        "less than or equal to 5",
        (r"level: 6$", 1),
        id="gate-level-6",
    ),
    pytest.param(
        _set(("questions", 1, "gates"), [{"level": 4, "min_score": 90}]),
        "questions[1].gates[0].min_score",
        "no answer can reach 90; the best scores 70",
        (r"min_score: 90$", 1),
        id="gate-min-score-unreachable",
    ),
    pytest.param(
        _set(("questions", 4, "gates"), [{"level": 4, "min_score": 101}]),
        "questions[4].gates[0].min_score",
        "less than or equal to 100",
        (r"min_score: 101$", 1),
        id="gate-min-score-above-100",
    ),
    pytest.param(
        _set(
            ("questions", 2, "gates"),
            [{"level": 2, "min_score": 100}, {"level": 2, "min_score": 100}],
        ),
        "questions[2].gates[1].level",
        "level 2 is gated twice",
        (r"level: 2$", 3),  # levels[1], then the two gates
        id="gate-level-twice",
    ),
    pytest.param(
        _set(("questions", 5, "gates"), [{"level": 2, "min_score": 100}]),
        "questions[5].gates",
        "a follow-up question (with show_if) cannot gate a level",
        (r"^\s+gates:$", 2),
        id="gate-on-a-show-if-question",
    ),
    pytest.param(
        _set(("questions", 6, "gates"), [{"level": 2, "min_score": 10}]),
        "questions[6].gates",
        "free-text questions are not scored and cannot gate a level",
        (r"^\s+gates:$", 2),
        id="gate-on-a-text-question",
    ),
    pytest.param(
        _set(("levels", 2, "level"), 4),
        "levels[2].level",
        "expected 3, found 4",
        (r"level: 4$", 1),
        id="levels-out-of-order",
    ),
    pytest.param(
        _set(("levels", 4, "level"), 6),
        "levels[4].level",
        "less than or equal to 5",
        (r"level: 6$", 1),
        id="level-6",
    ),
    pytest.param(
        _drop_level,
        "levels",
        "at least 5 items",
        (r"^levels:$", 1),
        id="four-levels",
    ),
    pytest.param(
        _set(("questions", 6, "weight"), 2),
        "questions[6].weight",
        "Input should be 0",
        (r"weight: 2$", 1),
        id="text-question-with-weight",
    ),
    pytest.param(
        _set(
            ("questions", 4, "bands"),
            [
                {"at_least": 0, "score": 0},
                {"at_least": 20, "score": 50},
                {"at_least": 10, "score": 100},
            ],
        ),
        "questions[4].bands[2].at_least",
        "bands must be in increasing order",
        (r"at_least: 10$", 1),
        id="number-bands-out-of-order",
    ),
    pytest.param(
        _set(("questions", 4, "bands", 0, "at_least"), 5),
        "questions[4].bands[0].at_least",
        "the first band must start at or below min (0)",
        (r"at_least: 5$", 1),
        id="number-first-band-above-min",
    ),
    pytest.param(
        _set(("questions", 4, "min"), 100),
        "questions[4].max",
        "max (100) must be greater than min (100)",
        (r"^\s+max: 100$", 1),
        id="number-max-not-above-min",
    ),
    pytest.param(
        _set(("questions", 3, "labels"), {1: "Low", 7: "Off the scale"}),
        "questions[3].labels[7]",
        "label for 7 is outside 1..5",
        (r"^\s+7: Off the scale$", 1),
        id="scale-label-off-the-scale",
    ),
    pytest.param(
        _set(("questions", 0, "options", 0, "exclusive"), True),
        "questions[0].options[0].exclusive",
        "exclusive applies to multiple choice only",
        (r"exclusive: true$", 1),
        id="exclusive-on-single-choice",
    ),
    pytest.param(
        _set(("questions", 2, "dimension"), "omega"),
        "questions[2].dimension",
        "unknown dimension 'omega'",
        (r"dimension: omega$", 1),
        id="unknown-dimension",
    ),
    pytest.param(
        _set(("questions", 2, "na_label"), "Does not apply"),
        "questions[2].na_label",
        "na_label is given but allow_na is false",
        (r"na_label: Does not apply$", 1),
        id="na-label-without-allow-na",
    ),
    pytest.param(
        _set(("questions", 2, "type"), "radio"),
        "questions[2]",
        "does not match any of the expected tags",
        (r"- id: q_yes$", 1),
        id="unknown-question-type",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_choice", "equals": "c_some"}),
        "questions[5].show_if",
        "a scored follow-up must be shown for every answer to 'q_choice'",
        (r"^\s+show_if:$", 1),
        id="scored-follow-up-hidden-by-a-better-single-choice",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_yes", "equals": False}),
        "questions[5].show_if",
        "a scored follow-up must be shown for every answer to 'q_yes'",
        (r"^\s+show_if:$", 1),
        id="scored-follow-up-shown-only-for-no",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_scale", "equals": 3}),
        "questions[5].show_if",
        "a scored follow-up must be shown for every answer to 'q_scale'",
        (r"^\s+show_if:$", 1),
        id="scored-follow-up-shown-for-a-middle-scale-point",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_number", "at_least": 15}),
        "questions[5].show_if",
        "a scored follow-up must be shown for every answer to 'q_number'",
        (r"^\s+show_if:$", 1),
        id="scored-follow-up-shown-from-the-middle-of-a-band",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_multi", "includes": "m_a"}),
        "questions[5].show_if",
        "a scored follow-up must be shown for every answer to 'q_multi'",
        (r"^\s+show_if:$", 1),
        id="scored-follow-up-of-a-multiple-choice",
    ),
    pytest.param(
        _set(("dimensions", 0, "thresholds"), {2: 20, 3: 40, 4: 60, 5: 99}),
        "dimensions[0].thresholds.5",
        "level 5 needs 99 but the best possible answers score only",
        (r"^\s+5: 99$", 1),
        id="level-5-unreachable",
    ),
]


@pytest.mark.parametrize(("breaks", "path", "message", "line"), BROKEN)
def test_one_broken_thing_is_reported_with_file_line_and_path(breaks, path, message, line):
    data = valid_definition()
    breaks(data)
    text = dump(data)

    problems = problems_of(text)

    assert [p.path for p in problems] == [path], problems
    [problem] = problems
    assert problem.file == FILE
    assert message in problem.message
    assert problem.line == line_of(text, *line), (problem, text)


ACCEPTED = [
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_choice", "equals": "c_all"}),
        id="scored-follow-up-shown-for-the-best-option",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_yes", "equals": True}),
        id="scored-follow-up-shown-for-yes",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_scale", "at_least": 3}),
        id="scored-follow-up-shown-from-a-scale-point-up",
    ),
    pytest.param(
        _set(("questions", 5, "show_if"), {"question": "q_number", "at_least": 10}),
        id="scored-follow-up-shown-from-a-band-boundary-up",
    ),
    pytest.param(
        _set(("questions", 6, "show_if"), {"question": "q_multi", "includes": "m_a"}),
        id="unscored-follow-up-of-a-multiple-choice",
    ),
    pytest.param(
        _set(("questions", 6, "show_if"), {"question": "q_choice", "equals": "c_none"}),
        id="unscored-follow-up-shown-for-the-worst-option",
    ),
]


@pytest.mark.parametrize("changes", ACCEPTED)
def test_a_sound_variation_is_accepted(changes):
    data = valid_definition()
    changes(data)

    definition = parse_definition(dump(data), FILE)

    assert definition.id == "tiny"


def test_duplicate_yaml_key_is_reported_with_its_line_and_path():
    text = dump(valid_definition())
    prompt_line = line_of(text, r"prompt: Yes or no\?$")
    lines = text.splitlines()
    lines.insert(prompt_line, "  prompt: Yes or no, again?")
    text = "\n".join(lines) + "\n"

    [problem] = problems_of(text)

    assert problem.file == FILE
    assert problem.line == prompt_line + 1
    assert problem.path == "questions[2].prompt"
    assert "duplicate key 'prompt'" in problem.message


def test_duplicate_top_level_key_is_reported_even_when_the_values_agree():
    text = dump(valid_definition()) + "version: 1\n"

    [problem] = problems_of(text)

    assert problem.path == "version"
    assert problem.line == len(text.splitlines())
    assert "duplicate key" in problem.message


def test_every_duplicate_key_in_a_file_is_reported_at_once():
    text = dump(valid_definition()) + "title: Again\npublisher: Again\n"

    problems = problems_of(text)

    assert [p.path for p in problems] == ["title", "publisher"]


def test_yaml_syntax_error_is_reported_with_its_line():
    text = dump(valid_definition()).replace("prompt: Pick one.", "prompt: [Pick one.", 1)

    [problem] = problems_of(text)

    assert problem.file == FILE
    assert problem.message.startswith("not valid YAML")
    assert problem.line is not None
    assert problem.line >= line_of(text, r"prompt: \[Pick one\.$")


@pytest.mark.parametrize("text", ["", "- a list\n- not a mapping\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_is_refused(text):
    [problem] = problems_of(text)

    assert problem.message == "expected a mapping at the top of the file"


def test_an_alias_that_contains_itself_is_a_problem_not_a_crash():
    text = dump(valid_definition()) + "extra: &loop\n  inner: *loop\n"

    [problem] = problems_of(text)

    assert problem.path == "extra.inner"
    assert "alias" in problem.message


def test_two_broken_fields_give_two_problems():
    data = valid_definition()
    data["questions"][0]["options"][1]["score"] = 120
    data["questions"][2]["colour"] = "red"

    problems = problems_of(dump(data))

    assert sorted(p.path for p in problems) == [
        "questions[0].options[1].score",
        "questions[2].colour",
    ]


def test_every_cross_check_problem_in_a_file_is_reported_at_once():
    data = valid_definition()
    data["questions"][3]["id"] = "q_yes"
    data["questions"][5]["show_if"]["question"] = "q_ghost"
    data["dimensions"][0]["thresholds"] = {2: 20, 3: 10, 4: 60, 5: 80}

    problems = problems_of(dump(data))

    assert sorted(p.path for p in problems) == [
        "dimensions[0].thresholds.3",
        "questions[3].id",
        "questions[5].show_if.question",
    ]


def test_number_question_whose_bands_all_lie_beyond_max_is_a_problem_not_a_crash():
    data = valid_definition()
    data["questions"][4]["bands"] = [{"at_least": 200, "score": 100}]

    problems = problems_of(dump(data))

    assert "questions[4].bands[0].at_least" in [p.path for p in problems]


def test_problem_reads_file_line_path_and_message():
    problem = Problem("q/x/v1.yaml", 42, "questions[3].options[1].score", "too high")

    assert str(problem) == "q/x/v1.yaml:42: questions[3].options[1].score: too high"
    assert str(Problem("q/x/v1.yaml", None, "", "empty")) == "q/x/v1.yaml: empty"


def test_definition_error_message_lists_every_problem():
    data = valid_definition()
    data["questions"][0]["options"][1]["score"] = 120
    data["questions"][2]["colour"] = "red"

    with pytest.raises(DefinitionError) as caught:
        parse_definition(dump(data), FILE)

    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert len(caught.value.problems) == 2


def test_definition_is_immutable():
    definition = parse_definition(dump(valid_definition()), FILE)

    with pytest.raises(ValueError, match="frozen"):
        definition.title = "Changed"  # type: ignore[misc]


# -- files and folders -------------------------------------------------------------------


def write(root: Path, relative: str, data: dict[str, Any] | str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else dump(data), encoding="utf-8")
    return path


def with_id(qid: str, version: int = 1) -> dict[str, Any]:
    data = valid_definition()
    data["id"] = qid
    data["version"] = version
    return data


def test_load_file_gives_the_definition_its_source_and_hash(tmp_path):
    path = write(tmp_path, "tiny/v1.yaml", valid_definition())

    loaded = load_file(path)

    assert loaded.definition.id == "tiny"
    assert loaded.source == path
    assert loaded.content_hash == content_hash(loaded.definition)


def test_folder_must_match_the_id(tmp_path):
    path = write(tmp_path, "other/v1.yaml", valid_definition())

    with pytest.raises(DefinitionError) as caught:
        load_file(path)

    [problem] = caught.value.problems
    assert problem.path == "id"
    assert "must match its folder 'other'" in problem.message
    assert problem.file == str(path)


def test_file_name_must_match_the_version(tmp_path):
    path = write(tmp_path, "tiny/v2.yaml", valid_definition())

    with pytest.raises(DefinitionError) as caught:
        load_file(path)

    [problem] = caught.value.problems
    assert problem.path == "version"
    assert "must match the file name v2" in problem.message


def test_load_directory_loads_every_version_in_order(tmp_path):
    root = tmp_path / "questionnaires"
    write(root, "beta/v2.yaml", with_id("beta", 2))
    write(root, "beta/v10.yaml", with_id("beta", 10))
    write(root, "alpha/v1.yaml", with_id("alpha"))
    write(root, "alpha/notes.yaml", "not a definition: true\n")

    loaded = load_directory(root)

    assert [(x.definition.id, x.definition.version) for x in loaded] == [
        ("alpha", 1),
        ("beta", 2),
        ("beta", 10),
    ]


def test_load_directory_reports_the_problems_of_several_files_at_once(tmp_path):
    root = tmp_path / "questionnaires"
    broken = with_id("alpha")
    broken["questions"][0]["options"][1]["score"] = 120
    write(root, "alpha/v1.yaml", broken)
    write(root, "beta/v1.yaml", with_id("gamma"))
    write(root, "delta/v1.yaml", with_id("delta"))

    with pytest.raises(DefinitionError) as caught:
        load_directory(root)

    assert [(p.file, p.path) for p in caught.value.problems] == [
        ("questionnaires/alpha/v1.yaml", "questions[0].options[1].score"),
        ("questionnaires/beta/v1.yaml", "id"),
    ]
    assert caught.value.problems[0].line is not None


def test_load_directory_refuses_two_files_for_one_version(tmp_path):
    root = tmp_path / "questionnaires"
    write(root, "tiny/v1.yaml", valid_definition())
    write(root, "tiny/v1.yml", valid_definition())

    with pytest.raises(DefinitionError) as caught:
        load_directory(root)

    [problem] = caught.value.problems
    assert problem.path == "version"
    assert "also defined in" in problem.message


def test_load_directory_without_files_is_a_problem(tmp_path):
    with pytest.raises(DefinitionError) as caught:
        load_directory(tmp_path)

    [problem] = caught.value.problems
    assert "no questionnaire files" in problem.message


# -- content hash ------------------------------------------------------------------------


def test_content_hash_ignores_comments_layout_and_key_order():
    data = valid_definition()
    plain = yaml.safe_dump(data, sort_keys=False)
    reordered = yaml.safe_dump(data, sort_keys=True, indent=4, width=40)
    flow = "# A comment at the top.\n" + yaml.safe_dump(data, default_flow_style=True)
    commented = plain.replace("questions:\n", "questions:   # trailing comment\n\n\n")

    hashes = {content_hash(parse_definition(text, FILE)) for text in (plain, reordered, flow)}
    hashes.add(content_hash(parse_definition(commented, FILE)))

    assert len(hashes) == 1
    assert re.fullmatch(r"[0-9a-f]{64}", hashes.pop())


def test_content_hash_ignores_defaults_written_out():
    data = valid_definition()
    explicit = copy.deepcopy(data)
    explicit["questions"][2].update(weight=1, required=True, allow_na=False)

    assert content_hash(parse_definition(dump(data), FILE)) == content_hash(
        parse_definition(dump(explicit), FILE)
    )


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_set(("questions", 0, "options", 1, "score"), 55), id="option-score"),
        pytest.param(_set(("questions", 2, "weight"), 2), id="weight"),
        pytest.param(_set(("dimensions", 0, "thresholds", 3), 45), id="threshold"),
        pytest.param(_set(("questions", 0, "gates", 0, "min_score"), 60), id="gate"),
        pytest.param(_set(("questions", 2, "prompt"), "Yes, or no?"), id="prompt"),
    ],
)
def test_content_hash_changes_when_the_content_changes(change):
    data = valid_definition()
    changed = copy.deepcopy(data)
    change(changed)

    assert content_hash(parse_definition(dump(data), FILE)) != content_hash(
        parse_definition(dump(changed), FILE)
    )
