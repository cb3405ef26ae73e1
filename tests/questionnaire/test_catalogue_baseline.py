"""Baseline controls, exposure rules, capacity defaults and third-party costs in a catalogue.

The format is checked like the rest of a catalogue (each problem named at its place), and
the shipped v2 catalogue makes baseline every control its questionnaire's Security level 3
gates require.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.questionnaire.loader import load_directory
from tests.questionnaire.test_format_additions import (
    catalogue_problems,
    parse_catalogue,
    tiny_catalogue,
)

BASELINE_LEVEL = 3  # the v2 questionnaire's level 3 is where its baseline controls sit


def with_baseline() -> dict[str, Any]:
    data = copy.deepcopy(tiny_catalogue(2))
    data["baseline_controls"] = [
        {
            "id": "choice_done",
            "title": "The choice is made",
            "why": "Because it matters.",
            "needs": [{"question": "q_choice", "min_score": 100}],
        },
        {
            "id": "on_exposure",
            "title": "Only when exposed",
            "why": "Because of what was said.",
            "needs": [{"question": "q_choice", "min_score": 50}],
            "always": False,
        },
    ]
    data["exposures"] = [
        {
            "id": "said_so",
            "title": "They said so.",
            "when": [
                {"question": "q_notes", "mentions_any": ["hacked"]},
                {"question": "q_choice", "one_of": ["c_none"]},
                {"question": "q_yes", "equals": False},
            ],
            "controls": ["on_exposure"],
        }
    ]
    data["capacity"] = {
        "staff_hours_per_month": {"small": 10, "large": 40},
        "concurrent_actions": {"small": 2, "large": 4},
        "scale": {"question": "q_choice", "factors": {"c_none": 0.5, "c_some": 1, "c_all": 2}},
        "owner": {"question": "q_choice", "min_score": 50},
    }
    data["actions"][0]["third_party"] = [
        {
            "item": "A tool",
            "amounts": {"small": 100, "large": 400},
            "recurring": "yearly",
            "basis": "Estimate.",
        }
    ]
    return data


def test_baseline_exposures_capacity_and_third_party_costs_load():
    catalogue = parse_catalogue(with_baseline())

    assert [c.id for c in catalogue.baseline_controls] == ["choice_done", "on_exposure"]
    assert catalogue.exposures[0].controls == ("on_exposure",)
    assert catalogue.capacity is not None
    assert catalogue.capacity.concurrent_actions["large"] == 4
    assert catalogue.actions[0].third_party[0].estimate is True


def _break(change):
    def apply(data: dict[str, Any]) -> dict[str, Any]:
        change(data)
        return data

    return apply


@pytest.mark.parametrize(
    ("breaks", "path", "message"),
    [
        (
            lambda d: d["exposures"][0]["controls"].append("nope"),
            ("exposures", 0, "controls", 1),
            "unknown control",
        ),
        (
            lambda d: d["exposures"][0]["when"][1].update(one_of=["c_maybe"]),
            ("exposures", 0, "when", 1, "one_of", 0),
            "no option",
        ),
        (
            lambda d: d["exposures"][0]["when"][1].update(mentions_any=["abc"]),
            ("exposures", 0, "when", 1),
            "exactly one test",
        ),
        (
            lambda d: d["exposures"][0]["when"][2].update(mentions_any=["abc"], equals=None),
            ("exposures", 0, "when", 2, "mentions_any"),
            "not a free-text question",
        ),
        (
            lambda d: d["baseline_controls"][0]["needs"][0].update(question="q_notes"),
            ("baseline_controls", 0, "needs", 0, "question"),
            "not scored",
        ),
        (
            lambda d: d["baseline_controls"][0]["needs"][0].update(question="q_scale"),
            ("baseline_controls", 0, "needs", 0, "question"),
            "no action changes",
        ),
        (
            lambda d: d.update(exposures=[]),
            ("baseline_controls", 1, "always"),
            "no exposure names it",
        ),
        (
            lambda d: d["capacity"]["staff_hours_per_month"].pop("large"),
            ("capacity", "staff_hours_per_month"),
            "no staff hours for band(s) large",
        ),
        (
            lambda d: d["capacity"]["scale"]["factors"].pop("c_all"),
            ("capacity", "scale", "factors"),
            "no factor for option(s) c_all",
        ),
        (
            lambda d: d["actions"][0]["third_party"][0]["amounts"].pop("small"),
            ("actions", 0, "third_party", 0, "amounts"),
            "no amount for band(s) small",
        ),
    ],
)
def test_a_broken_baseline_or_capacity_is_reported_at_its_place(breaks, path, message):
    problems = catalogue_problems(_break(breaks)(with_baseline()))

    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]
    assert any(p.path == where and message in p.message for p in problems), problems


V2 = next(
    item
    for item in load_directory(PROJECT_ROOT / "questionnaires")
    if (item.definition.id, item.definition.version) == ("hospital-social-media", 2)
)


def test_v2_baseline_covers_every_security_gate_up_to_level_3():
    catalogue = V2.catalogue
    assert catalogue is not None
    always = [c for c in catalogue.baseline_controls if c.always]
    required: dict[str, float] = {}
    for control in always:
        for need in control.needs:
            required[need.question] = max(required.get(need.question, 0), need.min_score)
    for question in V2.definition.questions_in("security"):
        for gate in question.gates:
            if gate.level <= BASELINE_LEVEL:
                assert required.get(question.id, -1) >= gate.min_score, (question.id, gate)


def test_v2_exposures_include_shared_logins_incidents_and_missing_authorization():
    catalogue = V2.catalogue
    assert catalogue is not None
    watched = {c.question for e in catalogue.exposures for c in e.when}
    assert {"se_shared_logins", "se_incidents_description", "se_patient_authorization"} <= watched
    assert catalogue.capacity is not None
    third_party = [t for a in catalogue.actions for t in a.third_party]
    assert third_party
    assert all(t.estimate and t.basis.startswith("Estimate") for t in third_party)
