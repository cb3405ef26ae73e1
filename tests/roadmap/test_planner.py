"""The planner: verified projections, prerequisites, totals, budget, minimality, emptiness."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.questionnaire.answers import NA
from app.roadmap.planner import PlanningError, PlanOptions, plan_roadmap
from app.roadmap.results import Roadmap
from app.scoring.engine import dimension_levels, score_answers
from tests.conftest import example
from tests.strategies import DEFINITION, answer_sets
from tests.support.questionnaires import loaded_version

# These tests plan over version 1 and its catalogue.
LOADED = loaded_version(1)
CATALOGUE = LOADED.catalogue
assert CATALOGUE is not None
ACTIONS = {a.id: a for a in CATALOGUE.actions}
SERVICES = {s.id: s for s in CATALOGUE.services}
DIMENSIONS = [d.id for d in DEFINITION.dimensions]

beds = st.sampled_from([25, 150, 350, 900])
plans_for_random_answers = st.builds(
    lambda answers, licensed_beds: (
        answers,
        plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(licensed_beds)),
    ),
    answer_sets(complete=True),
    beds,
)


def answers_of(name: str) -> dict[str, Any]:
    return {a["question_id"]: NA if a.get("na") else a["value"] for a in example(name)["answers"]}


def levels_of(projection) -> dict[str, int]:
    return {p.dimension_id: p.level for p in projection}


def chosen(roadmap: Roadmap) -> set[str]:
    return {a.action_id for a in roadmap.actions}


def meets(levels: tuple[tuple[float, int], ...], wanted: dict[str, int]) -> bool:
    return all(level >= wanted[d] for d, (_, level) in zip(DIMENSIONS, levels, strict=True))


@given(plans_for_random_answers)
def test_rescoring_the_projected_answers_gives_exactly_the_projected_levels(case):
    _, roadmap = case
    rescored = score_answers(DEFINITION, roadmap.projected_answers)

    assert {d.dimension_id: (d.score, d.level) for d in rescored.dimensions} == {
        p.dimension_id: (p.score, p.level) for p in roadmap.projected
    }


@given(plans_for_random_answers)
def test_every_target_not_reported_unreachable_is_met(case):
    _, roadmap = case
    unreachable = {u.dimension_id for u in roadmap.unreachable}
    projected = levels_of(roadmap.projected)

    for dimension, target in roadmap.targets.items():
        if dimension not in unreachable:
            assert projected[dimension] >= target
        else:
            assert projected[dimension] < target


@given(plans_for_random_answers)
def test_default_targets_are_one_level_up_capped_at_5(case):
    _, roadmap = case
    current = levels_of(roadmap.current)

    assert roadmap.targets == {d: min(5, level + 1) for d, level in current.items()}


@given(plans_for_random_answers)
def test_no_action_starts_before_its_prerequisites_end(case):
    _, roadmap = case
    timing = {a.action_id: a for a in roadmap.actions}
    phase_of = {a.action_id: i for i, p in enumerate(roadmap.phases) for a in p.actions}

    for action in roadmap.actions:
        for required in action.requires:
            assert required in timing, f"{action.action_id} needs {required}, which is not planned"
            assert timing[required].end_week <= action.start_week
            assert phase_of[required] <= phase_of[action.action_id]


@given(plans_for_random_answers)
def test_totals_equal_the_sum_of_their_lines(case):
    _, roadmap = case

    assert roadmap.total_cost == sum(p.cost for p in roadmap.phases)
    for phase in roadmap.phases:
        assert phase.cost == sum(a.cost for a in phase.actions)
        for action in phase.actions:
            assert action.cost == sum(line.charged for line in action.services)
    assert roadmap.total_cost == sum(s.price for s in roadmap.services)
    band = roadmap.size_band
    assert all(s.price == SERVICES[s.service_id].prices[band] for s in roadmap.services)


@given(answer_sets(complete=True), beds, st.integers(0, 60_000))
def test_the_budget_is_never_exceeded(answers, licensed_beds, budget):
    roadmap = plan_roadmap(
        DEFINITION, CATALOGUE, answers, PlanOptions(licensed_beds, budget=budget)
    )

    assert roadmap.total_cost <= budget
    rescored = dimension_levels(DEFINITION, roadmap.projected_answers)
    assert [lvl for _, lvl in rescored] == [p.level for p in roadmap.projected]


@given(plans_for_random_answers)
def test_no_chosen_action_can_be_dropped_with_the_targets_still_met(case):
    answers, roadmap = case
    planned = levels_of(roadmap.projected)
    plan = chosen(roadmap)
    for action_id in plan:
        # Dropping an action drops whatever needs it too.
        dropped = {action_id} | {b for b in plan if action_id in _closure(b, plan)}
        remaining = plan - dropped
        projected = _project(answers, remaining)
        assert not meets(dimension_levels(DEFINITION, projected), planned), (
            f"{action_id} could be dropped"
        )


@given(answer_sets(complete=True), beds)
def test_a_plan_for_an_assessment_already_at_target_is_empty(answers, licensed_beds):
    current = {
        d: level
        for d, (_, level) in zip(DIMENSIONS, dimension_levels(DEFINITION, answers), strict=True)
    }

    roadmap = plan_roadmap(
        DEFINITION, CATALOGUE, answers, PlanOptions(licensed_beds, targets=current)
    )

    assert roadmap.phases == ()
    assert roadmap.total_cost == 0
    assert roadmap.unreachable == ()


@given(plans_for_random_answers)
def test_projected_levels_never_fall_from_phase_to_phase(case):
    _, roadmap = case
    steps = [levels_of(roadmap.current)] + [levels_of(p.projected) for p in roadmap.phases]

    for before, after in itertools.pairwise(steps):
        assert all(after[d] >= before[d] for d in DIMENSIONS)
    assert steps[-1] == levels_of(roadmap.projected)


@given(answer_sets(complete=True), st.sets(st.sampled_from(sorted(SERVICES)), max_size=5))
def test_excluded_services_never_appear(answers, excluded):
    roadmap = plan_roadmap(
        DEFINITION, CATALOGUE, answers, PlanOptions(250, excluded_services=frozenset(excluded))
    )

    used = {line.service_id for a in roadmap.actions for line in a.services}
    assert not used & excluded


def test_community_hospital_plan_reaches_one_level_up_everywhere():
    answers = answers_of("community-hospital")
    roadmap = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(60))

    assert roadmap.size_band == "small"
    assert roadmap.targets == {"presence": 3, "consistency": 2, "security": 3}
    assert levels_of(roadmap.projected) == roadmap.targets
    assert roadmap.unreachable == ()
    assert roadmap.phases[0].phase_id == "first_90_days"


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize(
    ("name", "licensed_beds"), [("community-hospital", 60), ("academic-medical-center", 900)]
)
def test_plan_for_one_dimension_costs_exactly_the_cheapest_way_there(
    name, licensed_beds, dimension
):
    answers = answers_of(name)
    current = {
        d: lvl
        for d, (_, lvl) in zip(DIMENSIONS, dimension_levels(DEFINITION, answers), strict=True)
    }
    if current[dimension] == 5:
        pytest.skip("already at the top level")
    targets = {**current, dimension: current[dimension] + 1}

    roadmap = plan_roadmap(
        DEFINITION, CATALOGUE, answers, PlanOptions(licensed_beds, targets=targets)
    )

    cheapest = _cheapest_by_brute_force(
        answers, DIMENSIONS.index(dimension), targets[dimension], licensed_beds
    )
    assert roadmap.total_cost == cheapest


def test_explicit_target_above_what_any_action_reaches_is_reported_with_reasons():
    answers = answers_of("community-hospital")
    everything = frozenset(SERVICES)

    roadmap = plan_roadmap(
        DEFINITION,
        CATALOGUE,
        answers,
        PlanOptions(60, targets={"security": 4}, excluded_services=everything),
    )

    [unreachable] = [u for u in roadmap.unreachable if u.dimension_id == "security"]
    assert unreachable.target == 4
    assert (
        "cannot reach level 3" in unreachable.reason or "cannot reach level 4" in unreachable.reason
    )
    assert "gate" in unreachable.reason
    assert roadmap.phases == ()


def test_budget_stops_at_the_most_levels_it_can_buy():
    answers = answers_of("community-hospital")
    full = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(60))

    tight = plan_roadmap(
        DEFINITION, CATALOGUE, answers, PlanOptions(60, budget=full.total_cost - 1)
    )

    assert tight.total_cost < full.total_cost
    gained_full = sum(levels_of(full.projected).values())
    gained_tight = sum(levels_of(tight.projected).values())
    assert gained_tight < gained_full
    assert any("budget" in u.reason for u in tight.unreachable)


def test_prices_follow_the_size_band():
    answers = answers_of("community-hospital")
    small = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(60))
    academic = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(900))

    assert academic.size_band == "academic"
    assert academic.total_cost >= small.total_cost


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (PlanOptions(60, targets={"reach": 3}), "targets"),
        (PlanOptions(60, targets={"security": 6}), "targets"),
        (PlanOptions(60, excluded_services=frozenset({"no_such_service"})), "exclude"),
        (PlanOptions(60, budget=-1), "budget"),
    ],
)
def test_bad_options_name_their_field(options, field):
    with pytest.raises(PlanningError) as raised:
        plan_roadmap(DEFINITION, CATALOGUE, answers_of("community-hospital"), options)

    assert raised.value.field == field


# -- an independent projection for the checks above ---------------------------------------


def _closure(action_id: str, within: set[str]) -> set[str]:
    result, stack = set(), [action_id]
    while stack:
        for required in ACTIONS[stack.pop()].requires:
            if required in within and required not in result:
                result.add(required)
                stack.append(required)
    return result


def _project(answers: dict[str, Any], actions: set[str]) -> dict[str, Any]:
    from app.questionnaire.visibility import visible_questions
    from app.scoring.engine import question_score

    projected = dict(answers)
    for action_id in sorted(actions):
        for change in ACTIONS[action_id].changes:
            question = DEFINITION.question(change.question)
            value = list(change.to) if isinstance(change.to, tuple) else change.to
            current = projected.get(change.question)
            if current is NA:
                continue
            if current is None or question_score(question, value) > question_score(
                question, current
            ):
                projected[change.question] = value
    shown = visible_questions(DEFINITION, projected)
    return {q: v for q, v in projected.items() if q in shown}


def _close_all(actions: set[str], answers: dict[str, Any]) -> set[str]:
    result = set(actions)
    stack = list(actions)
    while stack:
        for required in ACTIONS[stack.pop()].requires:
            if required not in result and _project(answers, {required}) != answers:
                result.add(required)
                stack.append(required)
    return result


def _cost(actions: set[str], band: str) -> int:
    return sum(SERVICES[s].prices[band] for s in {s for a in actions for s in ACTIONS[a].services})


def _cheapest_by_brute_force(
    answers: dict[str, Any], dimension: int, level: int, licensed_beds: int
) -> int:
    """Try every set of services: its cost, and whether all the actions it delivers get there.

    Cost depends only on the services bought, and more actions never lower a level, so the
    cheapest service set whose actions reach the level is the cheapest plan.
    """
    band = CATALOGUE.band_for(licensed_beds).id
    candidates = [a for a in ACTIONS if ACTIONS[a].dimension == DIMENSIONS[dimension]]
    needs = {
        a: {s for b in _close_all({a}, answers) for s in ACTIONS[b].services} for a in candidates
    }
    services = sorted({s for a in candidates for s in needs[a]})
    best = None
    for size in range(len(services) + 1):
        for bought in itertools.combinations(services, size):
            actions = _close_all({a for a in candidates if needs[a] <= set(bought)}, answers)
            if dimension_levels(DEFINITION, _project(answers, actions))[dimension][1] >= level:
                cost = sum(SERVICES[s].prices[band] for s in bought)
                best = cost if best is None else min(best, cost)
    assert best is not None
    return best
