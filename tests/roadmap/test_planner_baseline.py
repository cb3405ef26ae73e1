"""Risk first, capacity and cost of ownership, over the v2 questionnaire and its catalogue.

Properties for any answers, targets, budget and capacity: every missing baseline control is
put in place in the first phase; no month holds more staff hours or actions than the
organization can give; prerequisites finish before their dependants start; projected
levels re-score exactly; and the cost of ownership adds up across phases and years.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import PROJECT_ROOT
from app.questionnaire.answers import NA
from app.questionnaire.loader import load_directory
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.roadmap.results import CostBreakdown, Roadmap, YearCost
from app.scoring.engine import dimension_levels, question_score
from tests.conftest import example
from tests.strategies import is_asked, values_for

[LOADED] = [
    item
    for item in load_directory(PROJECT_ROOT / "questionnaires")
    if (item.definition.id, item.definition.version) == ("hospital-social-media", 2)
]
DEFINITION = LOADED.definition
CATALOGUE = LOADED.catalogue
assert CATALOGUE is not None
ACTIONS = {a.id: a for a in CATALOGUE.actions}
CONTROLS = {c.id: c for c in CATALOGUE.baseline_controls}
DIMENSIONS = [d.id for d in DEFINITION.dimensions]
INCIDENT_WORDS = st.sampled_from(
    ["", "A nurse posted a patient's photo.", "Our page was hacked last spring.", "None."]
)


@st.composite
def v2_answers(draw: st.DrawFn) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    asked: set[str] = set()
    for question in DEFINITION.questions:
        if not is_asked(question, answers, asked):
            continue
        asked.add(question.id)
        if question.id == "se_incidents_description":
            text = draw(INCIDENT_WORDS)
            if text:
                answers[question.id] = text
        elif question.type.value == "text":
            continue
        elif question.allow_na and draw(st.integers(0, 3)) == 0:
            answers[question.id] = NA
        else:
            answers[question.id] = draw(values_for(question))
    return answers


options = st.builds(
    PlanOptions,
    licensed_beds=st.sampled_from([25, 150, 350, 800]),
    targets=st.dictionaries(st.sampled_from(DIMENSIONS), st.integers(1, 5), max_size=3),
    budget=st.one_of(st.none(), st.integers(0, 80_000)),
    staff_hours_per_month=st.one_of(st.none(), st.integers(4, 120).map(float)),
    concurrent_actions=st.one_of(st.none(), st.integers(1, 5)),
    hourly_rate=st.one_of(st.none(), st.integers(0, 120)),
    budget_scope=st.sampled_from(["center_fees", "everything"]),
)
plans = st.builds(
    lambda answers, opts: (answers, opts, plan_roadmap(DEFINITION, CATALOGUE, answers, opts)),
    v2_answers(),
    options,
)
property_settings = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def meets(control_id: str, answers: dict[str, Any]) -> bool:
    for requirement in CONTROLS[control_id].needs:
        value = answers.get(requirement.question)
        if value is NA:
            continue
        question = DEFINITION.question(requirement.question)
        if value is None or (question_score(question, value) or 0) < requirement.min_score:
            return False
    return True


def answers_of(name: str) -> dict[str, Any]:
    return {a["question_id"]: NA if a.get("na") else a["value"] for a in example(name)["answers"]}


@given(plans)
@property_settings
def test_every_missing_baseline_control_is_put_in_place_in_phase_1(case):
    answers, _, roadmap = case
    missing = [c for c in roadmap.baseline if not c.met and c.reachable]
    baseline_actions = {a.action_id for a in roadmap.actions if a.baseline}
    if not missing:
        assert not baseline_actions
        return
    first = roadmap.phases[0]
    assert first.baseline
    assert {a.action_id for a in first.actions} == baseline_actions
    for phase in roadmap.phases[1:]:
        assert not any(a.baseline for a in phase.actions)
    # Phase 1 alone puts every missing control in place, re-scored from its projection.
    for control in missing:
        assert control.action_ids
        assert set(control.action_ids) <= baseline_actions
        assert meets(control.control_id, roadmap.projected_answers), control.control_id
    for control in roadmap.baseline:
        assert control.met == meets(control.control_id, answers)
    assert all(a.why.startswith("baseline:") for a in first.actions)


@given(plans)
@property_settings
def test_no_month_holds_more_than_the_capacity(case):
    _, _, roadmap = case
    capacity = roadmap.capacity
    assert capacity is not None
    hours: dict[int, float] = {}
    running: dict[int, int] = {}
    for action in roadmap.actions:
        span = action.end_month - action.start_month + 1
        assert span >= 1
        for month in range(action.start_month, action.end_month + 1):
            hours[month] = hours.get(month, 0.0) + (action.path_staff_hours or 0.0) / span
            running[month] = running.get(month, 0) + 1
    assert capacity.staff_hours_per_month is not None
    for month in hours:
        assert hours[month] <= capacity.staff_hours_per_month + 1e-6
        assert running[month] <= capacity.concurrent_actions
    assert roadmap.total_months == max(hours, default=0)
    assert roadmap.beyond_12_months == (roadmap.total_months > 12)


@given(plans)
@property_settings
def test_prerequisites_finish_before_their_dependants_start(case):
    _, _, roadmap = case
    timing = {a.action_id: a for a in roadmap.actions}
    for action in roadmap.actions:
        for required in action.requires:
            assert required in timing, f"{action.action_id} needs {required}"
            assert timing[required].end_month < action.start_month
        if not action.baseline:
            assert all(b.end_month < action.start_month for b in roadmap.actions if b.baseline)


@given(plans)
@property_settings
def test_projected_levels_rescore_exactly(case):
    _, _, roadmap = case
    rescored = dimension_levels(DEFINITION, roadmap.projected_answers)
    assert [(p.score, p.level) for p in roadmap.projected] == list(rescored)


def _parts(year: YearCost) -> tuple[Any, ...]:
    return (year.center_one_off, year.center_recurring, year.third_party, year.staff_hours)


@given(plans)
@property_settings
def test_costs_add_up_across_phases_and_years(case):
    _, opts, roadmap = case
    costs = roadmap.costs
    assert costs is not None
    membership = roadmap.membership.price if roadmap.membership else 0
    phase_costs: list[CostBreakdown] = [p.costs for p in roadmap.phases if p.costs]
    assert len(phase_costs) == len(roadmap.phases)
    for year, pick in ((costs.year1, "year1"), (costs.year2, "year2")):
        rows = [getattr(p, pick) for p in phase_costs]
        assert year.center_one_off == sum(r.center_one_off for r in rows)
        assert year.center_recurring == sum(r.center_recurring for r in rows) + membership
        assert year.third_party == sum(r.third_party for r in rows)
        assert year.staff_hours == pytest.approx(sum(r.staff_hours for r in rows), abs=0.05)
        assert year.total == (
            year.center_one_off + year.center_recurring + year.third_party + (year.staff_cost or 0)
        )
        assert (year.staff_cost is None) == (opts.hourly_rate is None)
    for breakdown in [costs, *phase_costs]:
        assert breakdown.total == breakdown.year1.total + breakdown.year2.total
        assert breakdown.center_one_off == (
            breakdown.year1.center_one_off + breakdown.year2.center_one_off
        )
        assert breakdown.third_party == breakdown.year1.third_party + breakdown.year2.third_party
    assert costs.center_one_off + costs.year1.center_recurring - membership >= 0
    assert (
        costs.staff_hours
        == pytest.approx(sum(a.path_staff_hours or 0.0 for a in roadmap.actions), abs=0.1)
        or roadmap.total_months > 24
    )


@given(v2_answers(), st.sampled_from([25, 250, 800]))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_budget_too_small_for_the_baseline_keeps_it_and_says_so(answers, beds):
    free = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(beds))
    broke = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(beds, budget=0))
    baseline = {a.action_id for a in free.actions if a.baseline}
    assert {a.action_id for a in broke.actions if a.baseline} == baseline
    fees = sum(a.cost for a in broke.actions if a.baseline)
    if fees > 0:
        assert broke.baseline_shortfall is not None
        assert "baseline" in broke.baseline_shortfall
    else:
        assert broke.baseline_shortfall is None


def _plan(name: str, beds: int, **kwargs: Any) -> Roadmap:
    return plan_roadmap(DEFINITION, CATALOGUE, answers_of(name), PlanOptions(beds, **kwargs))


def test_the_critical_access_hospital_fixes_shared_logins_first_within_its_hours():
    roadmap = _plan("v2-critical-access-hospital", 25)

    first = roadmap.phases[0]
    assert first.baseline
    ids = {a.action_id for a in first.actions}
    assert {"se_mfa_and_individual_logins", "se_offboard_same_day", "se_write_incident_plan"} <= ids
    assert "shared_logins" in {e.exposure_id for e in roadmap.exposures}
    assert roadmap.capacity is not None
    assert roadmap.capacity.staff_hours_per_month == 16
    assert all(m.staff_hours <= 16 for m in roadmap.months)
    # A named owner and hours to spare: the in-house paths, with the reason given.
    assert all(a.path == "diy" for a in first.actions if a.diy is not None)
    assert all(a.path_reason for a in roadmap.actions)


def test_the_community_hospitals_incident_puts_account_recovery_and_breach_rules_first():
    roadmap = _plan("v2-community-hospital", 250)

    first = {a.action_id for a in roadmap.phases[0].actions}
    assert {"pr_take_control_of_account_recovery", "se_write_breach_procedure"} <= first
    assert "incident_described" in {e.exposure_id for e in roadmap.exposures}
    assert roadmap.schedule_note


def test_no_owner_means_the_centers_path_and_fewer_hours():
    answers = answers_of("v2-community-hospital") | {"co_owner": "nobody"}
    roadmap = plan_roadmap(DEFINITION, CATALOGUE, answers, PlanOptions(250))

    assert roadmap.capacity is not None
    assert roadmap.capacity.staff_hours_per_month == 20  # 40 halved
    assert all(a.path == "center" for a in roadmap.actions)
    assert all(
        "owns social media" in a.path_reason or "no do-it-yourself" in a.path_reason
        for a in roadmap.actions
    )


def test_an_hourly_rate_prices_staff_time_and_everything_scope_counts_it():
    priced = _plan("v2-community-hospital", 250, hourly_rate=60)

    assert priced.costs is not None
    assert priced.costs.staff_cost is not None
    assert abs(priced.costs.staff_cost - priced.costs.staff_hours * 60) <= 2  # rounded per year
    unpriced = _plan("v2-community-hospital", 250)
    assert unpriced.costs is not None
    assert unpriced.costs.staff_cost is None
    capped = _plan(
        "v2-community-hospital", 250, hourly_rate=60, budget=25_000, budget_scope="everything"
    )
    assert capped.budget_scope == "everything"
    assert capped.costs is not None
    assert capped.costs.year1.total <= 25_000 or capped.baseline_shortfall is not None
