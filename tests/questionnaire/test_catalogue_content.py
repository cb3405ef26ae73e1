"""The shipped roadmap catalogue for hospital-social-media v1: coverage, prices, integrity.

The coverage rules make sure the planner always has something to recommend: every scored
question can reach its best answer, every gate can be passed, follow-up questions are
only changed once they are asked, and every service is sold and priced for every size.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.config import PROJECT_ROOT
from app.questionnaire.catalogue import Action, Catalogue, ServiceKind
from app.questionnaire.loader import DefinitionError, LoadedDefinition, load_directory
from app.questionnaire.rules import is_scored, score_range
from app.questionnaire.schemas import Question, QuestionnaireDefinition
from app.questionnaire.visibility import visible_questions
from app.scoring.engine import question_score
from tests.support.questionnaires import loaded_version

QUESTIONNAIRES = PROJECT_ROOT / "questionnaires"
FOLDER = QUESTIONNAIRES / "hospital-social-media"
CATALOGUE_FILE = FOLDER / "catalogue-v1.yaml"
BANDS_BY_SIZE = ("small", "community", "regional", "academic")

# Questions where a hospital one step below the top can buy a cheaper, earlier step.
GRADED_QUESTIONS = (
    "pr_official_accounts",
    "pr_platforms",
    "pr_orphaned_accounts",
    "pr_posts_per_week",
    "pr_clinician_participation",
    "pr_accessibility",
    "co_owner",
    "co_editorial_calendar",
    "co_brand_guidelines",
    "co_approval_workflow",
    "co_response_hours",
    "co_measurement",
    "co_crisis_playbook",
    "co_account_inventory",
    "se_policy",
    "se_phi_training",
    "se_clinician_boundaries",
    "se_account_access",
    "se_compliance_review",
)


@pytest.fixture(scope="module")
def loaded() -> LoadedDefinition:
    return loaded_version(1)


@pytest.fixture(scope="module")
def definition(loaded: LoadedDefinition) -> QuestionnaireDefinition:
    return loaded.definition


@pytest.fixture(scope="module")
def catalogue(loaded: LoadedDefinition) -> Catalogue:
    assert loaded.catalogue is not None, "catalogue-v1.yaml was not loaded beside v1.yaml"
    return loaded.catalogue


def answer(value: Any) -> Any:
    """A change's target as an answer: the catalogue keeps multiple choices as tuples."""
    return list(value) if isinstance(value, tuple) else value


def reached_score(question: Question, value: Any) -> float:
    score = question_score(question, answer(value))
    assert score is not None, question.id
    return score


def question_of(definition: QuestionnaireDefinition, question_id: str) -> Question:
    question = definition.question(question_id)
    assert question is not None, question_id
    return question


def prerequisites(catalogue: Catalogue, action: Action) -> list[Action]:
    """Every action that must come before ``action``, directly or through others."""
    by_id = {a.id: a for a in catalogue.actions}
    found: dict[str, Action] = {}
    pending = list(action.requires)
    while pending:
        action_id = pending.pop()
        if action_id not in found:
            found[action_id] = by_id[action_id]
            pending.extend(by_id[action_id].requires)
    return list(found.values())


def reaches(definition: QuestionnaireDefinition, action: Action, question_id: str) -> list[float]:
    """The scores ``action`` takes ``question_id`` to (empty if it does not change it)."""
    question = question_of(definition, question_id)
    return [reached_score(question, c.to) for c in action.changes if c.question == question_id]


def test_catalogue_loads_and_is_attached_to_questionnaire_v1(loaded, catalogue):
    assert loaded.catalogue_hash is not None
    assert (catalogue.questionnaire, catalogue.version) == ("hospital-social-media", 1)
    assert catalogue.currency == "USD"
    assert catalogue.parallel_tracks == 2
    assert [b.id for b in catalogue.size_bands] == list(BANDS_BY_SIZE)
    assert [b.min_beds for b in catalogue.size_bands] == [0, 100, 300, 500]


def test_catalogue_size_fits_the_brief(catalogue):
    too_many_services = [a.id for a in catalogue.actions if not 1 <= len(a.services) <= 2]

    assert 12 <= len(catalogue.services) <= 16
    assert 35 <= len(catalogue.actions) <= 50
    assert too_many_services == []


def test_every_scored_question_can_be_raised_to_its_best_answer(definition, catalogue):
    unreachable = []
    for question in definition.questions:
        if not is_scored(question):
            continue
        best = score_range(question)[1]
        if not any(
            score >= best
            for action in catalogue.actions
            for score in reaches(definition, action, question.id)
        ):
            unreachable.append(question.id)

    assert unreachable == [], f"no action reaches the best answer of: {', '.join(unreachable)}"


def test_every_gate_can_be_met_by_some_action(definition, catalogue):
    unmet = []
    for question in definition.questions:
        for gate in question.gates:
            if not any(
                score >= gate.min_score
                for action in catalogue.actions
                for score in reaches(definition, action, question.id)
            ):
                unmet.append(f"{question.id} (level {gate.level}, {gate.min_score:g})")

    assert unmet == [], f"no action meets the gate on: {', '.join(unmet)}"


def test_follow_up_questions_are_only_changed_once_their_parent_makes_them_asked(
    definition, catalogue
):
    orphaned = []
    for action in catalogue.actions:
        follow_ups = [
            c.question for c in action.changes if question_of(definition, c.question).show_if
        ]
        if not follow_ups:
            continue
        # The best answer each question reaches through this action and its prerequisites.
        projected: dict[str, Any] = {}
        for step in [*prerequisites(catalogue, action), action]:
            for change in step.changes:
                question = question_of(definition, change.question)
                current = projected.get(change.question)
                if current is None or reached_score(question, change.to) > reached_score(
                    question, current
                ):
                    projected[change.question] = answer(change.to)
        asked = visible_questions(definition, projected)
        orphaned += [f"{action.id}: {q}" for q in follow_ups if q not in asked]

    assert orphaned == [], f"follow-ups changed before they are asked: {', '.join(orphaned)}"


def test_every_service_is_used_by_an_action(catalogue):
    used = {s for action in catalogue.actions for s in action.services}
    unused = [s.id for s in catalogue.services if s.id not in used]

    assert unused == [], f"services no action uses: {', '.join(unused)}"


def test_every_service_has_a_price_for_every_size_band(catalogue):
    bands = {b.id for b in catalogue.size_bands}
    unpriced = [s.id for s in catalogue.services if set(s.prices) != bands]

    assert unpriced == [], f"services without a price for every band: {', '.join(unpriced)}"


def test_all_five_service_kinds_are_offered(catalogue):
    offered = {s.kind for s in catalogue.services}
    # Memberships came with the version-2 catalogue.
    kinds = set(ServiceKind) - {ServiceKind.MEMBERSHIP}

    assert offered == kinds, f"missing kinds: {kinds - offered}"


def test_prices_never_fall_as_size_bands_grow(catalogue):
    order = [b.id for b in sorted(catalogue.size_bands, key=lambda b: b.min_beds)]
    falling = [
        s.id
        for s in catalogue.services
        if any(s.prices[a] > s.prices[b] for a, b in pairwise(order))
    ]

    assert falling == [], f"prices fall with size for: {', '.join(falling)}"


@pytest.mark.parametrize("question_id", GRADED_QUESTIONS)
def test_graded_question_offers_an_intermediate_step_before_the_best_answer(
    definition, catalogue, question_id
):
    question = question_of(definition, question_id)
    low, best = score_range(question)
    top_actions = [
        a for a in catalogue.actions if any(s >= best for s in reaches(definition, a, question_id))
    ]

    assert top_actions, f"no action reaches the best answer of {question_id}"
    for top in top_actions:
        steps = [
            p.id
            for p in prerequisites(catalogue, top)
            if any(low < s < best for s in reaches(definition, p, question_id))
        ]
        assert steps, f"{top.id} reaches the best answer of {question_id} with no earlier step"


# ------------------------------------------------------------------ broken copies


# Each breakage edits the parsed catalogue and returns the problem it expects: a regular
# expression for the path and a fragment of the message.


def action_index(data: dict[str, Any], action_id: str) -> int:
    return next(i for i, a in enumerate(data["actions"]) if a["id"] == action_id)


def drop_a_band_price(data: dict[str, Any]) -> tuple[str, str]:
    del data["services"][0]["prices"]["academic"]
    return re.escape("services[0].prices"), "no price for band(s) academic"


def change_a_question_of_another_dimension(data: dict[str, Any]) -> tuple[str, str]:
    i = action_index(data, "pr_find_unofficial_accounts")
    data["actions"][i]["changes"][0] = {"question": "se_policy", "to": "dedicated"}
    return (
        re.escape(f"actions[{i}].changes[0].question"),
        "'se_policy' belongs to 'security', not to the action's dimension 'presence'",
    )


def reach_an_answer_that_is_not_an_option(data: dict[str, Any]) -> tuple[str, str]:
    i = action_index(data, "pr_find_unofficial_accounts")
    data["actions"][i]["changes"][0]["to"] = "sometimes"
    return re.escape(f"actions[{i}].changes[0].to"), "'sometimes' is not an option"


def require_an_unknown_action(data: dict[str, Any]) -> tuple[str, str]:
    i = action_index(data, "co_certify_owner_and_backup")
    data["actions"][i]["requires"].append("no_such_action")
    k = len(data["actions"][i]["requires"]) - 1
    return re.escape(f"actions[{i}].requires[{k}]"), "unknown action 'no_such_action'"


def make_prerequisites_circular(data: dict[str, Any]) -> tuple[str, str]:
    # co_certify_owner_and_backup already requires co_name_owner_and_list_accounts.
    i = action_index(data, "co_name_owner_and_list_accounts")
    data["actions"][i]["requires"] = ["co_certify_owner_and_backup"]
    return (
        r"actions\[\d+\]\.requires",
        "co_name_owner_and_list_accounts -> co_certify_owner_and_backup -> "
        "co_name_owner_and_list_accounts",
    )


def name_an_unknown_service(data: dict[str, Any]) -> tuple[str, str]:
    i = action_index(data, "se_adopt_phi_reply_script")
    data["actions"][i]["services"] = ["no_such_service"]
    return re.escape(f"actions[{i}].services[0]"), "unknown service 'no_such_service'"


@pytest.mark.parametrize(
    "breakage",
    [
        drop_a_band_price,
        change_a_question_of_another_dimension,
        reach_an_answer_that_is_not_an_option,
        require_an_unknown_action,
        make_prerequisites_circular,
        name_an_unknown_service,
    ],
    ids=lambda breakage: breakage.__name__,
)
def test_check_catalogue_reports_a_broken_copy_with_its_path(
    tmp_path: Path, breakage: Callable[[dict[str, Any]], tuple[str, str]]
):
    data = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    path, message = breakage(data)
    folder = tmp_path / "questionnaires" / "hospital-social-media"
    folder.mkdir(parents=True)
    shutil.copy(FOLDER / "v1.yaml", folder / "v1.yaml")
    (folder / "catalogue-v1.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )

    with pytest.raises(DefinitionError) as raised:
        load_directory(tmp_path / "questionnaires")

    matching = [
        p for p in raised.value.problems if re.fullmatch(path, p.path) and message in p.message
    ]
    assert matching, [str(p) for p in raised.value.problems]
    assert all(p.file.endswith("catalogue-v1.yaml") and p.line for p in matching)
    assert len(raised.value.problems) == 1, [str(p) for p in raised.value.problems]


def test_an_unbroken_copy_loads_from_a_temporary_folder(tmp_path: Path):
    folder = tmp_path / "questionnaires" / "hospital-social-media"
    folder.mkdir(parents=True)
    shutil.copy(FOLDER / "v1.yaml", folder / "v1.yaml")
    data = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    (folder / "catalogue-v1.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False), encoding="utf-8"
    )

    (item,) = load_directory(tmp_path / "questionnaires")

    assert item.catalogue is not None
    assert len(item.catalogue.actions) == len(data["actions"])
