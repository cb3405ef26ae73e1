"""Plans are remembered by everything they are made from, so a remembered plan is never
another organization's, another answer set's or another option's."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import InvalidRequest
from app.memo import Memo
from app.questionnaire.answers import NA
from app.reports.inputs import PlanRequest, ReportInputs, plan
from app.reports.view import OrganizationInfo
from app.roadmap.planner import PlanningError, PlanOptions, plan_roadmap
from tests.conftest import example
from tests.strategies import DEFINITION, answer_sets
from tests.support.questionnaires import loaded_version

LOADED = loaded_version(1)
CATALOGUE = LOADED.catalogue
assert CATALOGUE is not None
assert LOADED.catalogue_hash is not None
DIMENSIONS = [d.id for d in DEFINITION.dimensions]


def inputs_for(answers: dict, licensed_beds: int) -> ReportInputs:
    return ReportInputs(
        definition=DEFINITION,
        definition_hash=LOADED.content_hash,
        catalogue=CATALOGUE,
        catalogue_hash=LOADED.catalogue_hash,
        answers=answers,
        comments={},
        organization=OrganizationInfo(
            name="Memo Hospital",
            type="community_hospital",
            licensed_beds=licensed_beds,
            state="MN",
        ),
        assessed_on=date(2026, 12, 1),
    )


requests = st.builds(
    lambda targets, budget: PlanRequest(targets, budget),
    st.dictionaries(st.sampled_from(DIMENSIONS), st.integers(2, 5), max_size=2),
    st.sampled_from([None, 5_000, 40_000]),
)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(answer_sets(complete=True), st.sampled_from([25, 350]), requests),
        min_size=2,
        max_size=3,
    )
)
def test_a_remembered_plan_is_always_the_plan_of_the_same_inputs(cases):
    # Planned in turn (and again): each answer is the plan the planner makes afresh.
    for answers, beds, request in [*cases, *cases]:
        inputs = inputs_for(answers, beds)
        options = PlanOptions(
            licensed_beds=beds,
            targets=request.targets,
            budget=request.budget,
        )
        try:
            fresh = plan_roadmap(DEFINITION, CATALOGUE, answers, options)
        except PlanningError:  # an option the planner refuses is refused every time
            with pytest.raises(InvalidRequest):
                plan(inputs, request)
            continue
        assert plan(inputs, request) == fresh


def test_the_same_inputs_are_planned_once():
    answers = {
        a["question_id"]: NA if a.get("na") else a["value"]
        for a in example("community-hospital")["answers"]
    }
    inputs = inputs_for(answers, 150)

    first = plan(inputs, PlanRequest())

    assert plan(inputs_for(dict(answers), 150), PlanRequest()) is first
    assert plan(inputs_for(answers, 900), PlanRequest()) is not first


def test_a_memo_forgets_the_least_recently_used_first_and_never_a_failure():
    memo: Memo[str, int] = Memo(2)
    computed: list[str] = []

    def value(key: str) -> int:
        computed.append(key)
        return len(computed)

    assert memo.get("a", lambda: value("a")) == 1
    assert memo.get("b", lambda: value("b")) == 2
    assert memo.get("a", lambda: value("a")) == 1  # remembered; now the most recent
    assert memo.get("c", lambda: value("c")) == 3  # forgets b, the least recently used
    assert len(memo) == 2
    assert memo.get("b", lambda: value("b")) == 4
    assert computed == ["a", "b", "c", "b"]

    def fail() -> int:
        raise ValueError("no plan")

    with pytest.raises(ValueError, match="no plan"):
        memo.get("d", fail)
    assert memo.get("d", lambda: 5) == 5
