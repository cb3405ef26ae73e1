"""Planning over a version-2 catalogue: price forms, the membership, recurring costs, staff time.

A tiny questionnaire and catalogue make each figure checkable by hand: a 25-bed hospital
is in the small band (250 staff, three seats), and level 5 needs all three actions.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.questionnaire.catalogue import Catalogue, check_catalogue
from app.questionnaire.loader import parse_definition, parse_document
from app.questionnaire.schemas import QuestionnaireDefinition
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.roadmap.results import Roadmap
from app.roadmap.schemas import RoadmapRead
from tests.questionnaire.test_format_additions import tiny_catalogue
from tests.questionnaire.test_loader import FILE, dump, valid_definition

START = {
    "q_choice": "c_some",
    "q_multi": ["m_a"],
    "q_yes": False,
    "q_scale": 1,
    "q_number": 20,
    "q_followup": True,
}
SMALL = PlanOptions(licensed_beds=25, targets={"alpha": 5})


def definition() -> QuestionnaireDefinition:
    data = valid_definition()
    data["version"] = 2
    data["questions"][0]["gates"] = [{"level": 3, "min_score": 50}, {"level": 5, "min_score": 100}]
    return parse_definition(dump(data), FILE)


def catalogue_data(membership_price: int = 500) -> dict[str, Any]:
    data = copy.deepcopy(tiny_catalogue(2))
    data["services"][0]["points"] = 30
    data["services"][3]["prices"] = {"small": membership_price, "large": membership_price * 2}
    data["services"][3]["grants_points"] = {"small": 40, "large": 40}
    data["services"][2]["recurring"] = "yearly"
    data["services"][2]["delivers"] = ["account_security", "process"]
    train = data["actions"][0]
    data["actions"] += [
        {
            "id": "ac_yes",
            "dimension": "alpha",
            "kind": "training",
            "title": "Say yes",
            "rationale": "Because yes.",
            "changes": [{"question": "q_yes", "to": True}],
            "effort_weeks": 1,
            "services": ["course"],
            "staff_hours": {"small": 2, "large": 4},
        },
        {
            "id": "ac_scale",
            "dimension": "alpha",
            "kind": "account_security",
            "title": "Turn it up",
            "rationale": "Because more.",
            "changes": [{"question": "q_scale", "to": 5}],
            "effort_weeks": 3,
            "services": ["licence"],
            "staff_hours": {"small": 1.5, "large": 3},
        },
    ]
    train["services"] = ["workshop"]
    return data


def catalogue(membership_price: int = 500) -> Catalogue:
    questionnaire = definition()
    return parse_document(
        dump(catalogue_data(membership_price)),
        "catalogue-v2.yaml",
        Catalogue,
        lambda c: check_catalogue(c, questionnaire),
    )


def plan(membership_price: int = 500, options: PlanOptions = SMALL) -> Roadmap:
    return plan_roadmap(definition(), catalogue(membership_price), START, options)


def services_of(roadmap: Roadmap) -> dict[str, Any]:
    return {s.service_id: s for s in roadmap.services}


def test_each_service_is_priced_in_its_own_form_at_the_organizations_band():
    roadmap = plan(membership_price=50_000)  # no membership: list prices throughout

    services = services_of(roadmap)
    assert {a.action_id for a in roadmap.actions} == {"ac_train", "ac_yes", "ac_scale"}
    assert services["workshop"].price == 1000  # flat
    assert services["course"].price == 3 * 95  # three seats at 95
    assert services["course"].seats == 3
    assert services["licence"].price == 3 * 40  # 250 staff: three started hundreds
    assert roadmap.membership is None
    assert roadmap.total_cost == 1000 + 285 + 120


def test_a_larger_band_pays_for_its_own_seats_and_staff():
    roadmap = plan(membership_price=50_000, options=PlanOptions(600, targets={"alpha": 5}))

    services = services_of(roadmap)
    assert services["course"].price == 12 * 95
    assert services["licence"].price == 21 * 40  # 2,001 staff


def test_the_plan_buys_the_membership_when_its_points_cost_less_than_the_fees():
    roadmap = plan(membership_price=500)

    membership = roadmap.membership
    assert membership is not None
    # 40 points pay for the workshop (30) and the course (10); the licence has no points.
    assert set(membership.covered) == {"workshop", "course"}
    assert membership.points_used == 40
    assert membership.fees_without == 1405
    assert roadmap.total_cost == 500 + 120
    assert membership.saving == 1405 - 620
    assert "instead of USD 1,405 in separate fees" in membership.sentence
    lines = {line.service_id: line for a in roadmap.actions for line in a.services}
    assert lines["workshop"].paid_with_points
    assert lines["workshop"].charged == 0
    assert not lines["licence"].paid_with_points
    assert lines["licence"].charged == 120
    assert roadmap.total_cost == sum(p.cost for p in roadmap.phases) + membership.price


def test_a_membership_dearer_than_the_fees_is_not_bought():
    # 1,300 + the licence's 120 is more than the 1,405 in fees.
    roadmap = plan(membership_price=1300)

    assert roadmap.membership is None
    assert roadmap.total_cost == 1405


def test_recurring_services_are_marked_and_their_yearly_cost_totalled():
    without = plan(membership_price=50_000)
    with_membership = plan(membership_price=500)

    licence = services_of(without)["licence"]
    assert (licence.recurring, licence.yearly_cost) == ("yearly", 120)
    # The course is a yearly seat licence too (3 x 95).
    assert without.yearly_cost == 120 + 285
    # The membership recurs; the course it pays for no longer does.
    assert with_membership.yearly_cost == 500 + 120


def test_each_action_reports_its_staff_hours_and_do_it_yourself_path():
    roadmap = plan()

    actions = {a.action_id: a for a in roadmap.actions}
    train = actions["ac_train"]
    assert (train.kind, train.staff_hours) == ("training", 6)
    assert train.diy is not None
    assert train.diy.how == "Run the course yourselves."
    assert train.diy.staff_hours == 12
    assert [(r.service_id, r.price) for r in train.diy.resources] == [("licence", 120)]
    assert actions["ac_yes"].diy is None
    assert roadmap.staff_hours == 6 + 2 + 1.5


def test_the_roadmap_json_carries_the_new_fields_in_the_api_shape():
    read = RoadmapRead.model_validate(plan().to_dict())

    action = next(a for a in read.phases[0].actions if a.action_id == "ac_train")
    assert action.diy is not None
    assert action.diy.staff_hours == 12
    assert read.membership is not None
    assert read.membership.price == 500
    assert read.yearly_cost == 620


@pytest.mark.parametrize("budget", [0, 620, 1405])
def test_the_membership_never_breaks_the_budget(budget):
    roadmap = plan(options=PlanOptions(25, targets={"alpha": 5}, budget=budget))

    assert roadmap.total_cost <= budget
