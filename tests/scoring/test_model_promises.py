"""The maturity model keeps its word: a level is never reached without the gates it declares.

Generic over every served questionnaire version: for each gate (question, level, minimum),
answer sets that fail it, however strong elsewhere, never reach the gate's level. Version 2
adds named promises: Security 3 needs each baseline control, every dimension has level-5
gates, and every catalogue action is sold through a service that really delivers it.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.questionnaire.answers import NA
from app.questionnaire.loader import LoadedDefinition
from app.questionnaire.rules import is_scored
from app.questionnaire.schemas import (
    Gate,
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from app.questionnaire.visibility import visible_questions
from app.scoring.engine import dimension_level, question_score
from tests.strategies import values_for
from tests.support.questionnaires import loaded_by_key

LOADED = loaded_by_key()
V2_KEY = ("hospital-social-media", 2)
needs_v2 = pytest.mark.skipif(
    V2_KEY not in LOADED,
    reason="questionnaires/hospital-social-media/v2.yaml is not there yet",
)


def v2() -> LoadedDefinition:
    return LOADED[V2_KEY]


# -- answers, generic over a definition ------------------------------------------------------


def best_value(question: Question) -> Any:
    """An answer that scores the most this question can."""
    match question:
        case SingleChoiceQuestion(options=options):
            return max(options, key=lambda o: o.score).value
        case MultipleChoiceQuestion(options=options):
            candidates = [[o.value for o in options if not o.exclusive]]
            candidates += [[o.value] for o in options if o.exclusive]
            return max(candidates, key=lambda v: question_score(question, v) or 0.0)
        case YesNoQuestion(yes_score=yes, no_score=no):
            return yes >= no
        case ScaleQuestion(max=high):
            return high
        case NumberQuestion(min=low, max=high, bands=bands, integer=integer):
            starts = [min(max(b.at_least, low), high) for b in bands]
            value = max(starts, key=lambda v: question_score(question, v) or 0.0)
            return int(value) if integer else value
    raise AssertionError(question.id)


@cache
def failing_values(definition_key: tuple[str, int], question_id: str, level: int) -> list[Any]:
    """Every answer to a gated question that fails its gate at ``level`` (scores below it)."""
    definition = LOADED[definition_key].definition
    question = definition.question(question_id)
    assert question is not None
    gate = next(g for g in question.gates if g.level == level)
    match question:
        case SingleChoiceQuestion(options=options):
            values: list[Any] = [o.value for o in options]
        case MultipleChoiceQuestion(options=options):
            inclusive = [o.value for o in options if not o.exclusive]
            values = [
                list(c) for n in range(len(inclusive) + 1) for c in combinations(inclusive, n)
            ]
            values += [[o.value] for o in options if o.exclusive]
            if any(o.exclusive for o in options):
                values.remove([])  # intake refuses an empty list where "none" exists
        case YesNoQuestion():
            values = [False, True]
        case ScaleQuestion(min=low, max=high):
            values = list(range(low, high + 1))
        case NumberQuestion(min=low, max=high):
            values = sorted({int(low), int(high)} | {int(b.at_least) for b in question.bands})
            values = [v for v in values if low <= v <= high]
        case _:
            raise AssertionError(question.id)
    return [v for v in values if (question_score(question, v) or 0.0) < gate.min_score]


@st.composite
def strong_answers(draw: st.DrawFn, definition: QuestionnaireDefinition) -> dict[str, Any]:
    """A full answer set, mostly best answers (so high levels are in reach), some drawn."""
    answers: dict[str, Any] = {}
    for question in definition.questions:
        if question.show_if is not None and question.id not in visible_questions(
            definition, answers
        ):
            continue
        if isinstance(question, TextQuestion):
            continue
        roll = draw(st.integers(0, 9))
        if roll == 0 and question.allow_na:
            answers[question.id] = NA
        elif roll <= 1:
            answers[question.id] = draw(values_for(question))
        else:
            answers[question.id] = best_value(question)
    return answers


def all_best(definition: QuestionnaireDefinition) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in definition.questions:
        shown = question.show_if is None or question.id in visible_questions(definition, answers)
        if shown and is_scored(question):
            answers[question.id] = best_value(question)
    return answers


def level_of(definition: QuestionnaireDefinition, answers: dict[str, Any], dimension: str) -> int:
    index = [d.id for d in definition.dimensions].index(dimension)
    return dimension_level(definition, answers, index)[1]


def gates() -> list[Any]:
    params = []
    for key, item in LOADED.items():
        for question in item.definition.questions:
            for gate in question.gates:
                params.append(
                    pytest.param(key, question.id, gate, id=f"v{key[1]}-{question.id}-{gate.level}")
                )
    return params


# -- every gate, every version --------------------------------------------------------------


@pytest.mark.parametrize(("key", "question_id", "gate"), gates())
def test_failing_a_gate_with_every_other_answer_at_its_best_stays_below_its_level(
    key: tuple[str, int], question_id: str, gate: Gate
) -> None:
    definition = LOADED[key].definition
    dimension = definition.question(question_id).dimension  # type: ignore[union-attr]
    best = all_best(definition)
    assert level_of(definition, best, dimension) >= gate.level, "the gate's level is reachable"

    for value in failing_values(key, question_id, gate.level):
        answers = {**best, question_id: value}
        assert level_of(definition, answers, dimension) < gate.level, value


@pytest.mark.parametrize(("key", "question_id", "gate"), gates())
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_answer_set_failing_a_gate_reaches_its_level(
    key: tuple[str, int], question_id: str, gate: Gate, data: st.DataObject
) -> None:
    definition = LOADED[key].definition
    question = definition.question(question_id)
    assert question is not None
    answers = data.draw(strong_answers(definition))
    answers[question_id] = data.draw(st.sampled_from(failing_values(key, question_id, gate.level)))

    assert level_of(definition, answers, question.dimension) < gate.level


# -- version 2's named promises ---------------------------------------------------------------

# The controls HHS's health-sector cybersecurity goals count as essential, and the privacy
# basics, with the answer that falls short of each.
SECURITY_BASELINE = {
    "se_account_access": "mfa_some",  # MFA on every account
    "se_shared_logins": True,  # individual, not shared, logins
    "se_offboarding_hours": 24,  # access removed the day someone leaves
    "se_incident_readiness": "informal",  # a written plan for hijacking and PHI disclosure
    "se_patient_authorization": "general_release",  # written HIPAA authorization
    "se_policy_acknowledged": "written_unacknowledged",  # rules staff have acknowledged
}


@needs_v2
@pytest.mark.parametrize(("question_id", "short_answer"), SECURITY_BASELINE.items())
def test_security_level_3_needs_each_baseline_control(question_id, short_answer):
    definition = v2().definition
    question = definition.question(question_id)
    assert question is not None, f"v2 has no {question_id}"
    assert question.dimension == "security"
    assert any(g.level <= 3 for g in question.gates), f"{question_id} does not gate level 3"

    answers = {**all_best(definition), question_id: short_answer}

    assert level_of(definition, answers, "security") < 3


@needs_v2
@pytest.mark.parametrize("choice", ["policy_acknowledged", "guidelines_acknowledged"])
def test_a_policy_or_guidelines_under_existing_policies_both_reach_security_3(choice):
    definition = v2().definition
    answers = all_best(definition)
    # Level 3 exactly: every level-3 baseline met at its minimum, nothing more.
    answers.update(
        {
            "se_policy_acknowledged": choice,
            "se_account_access": "mfa_all",
            "se_incident_readiness": "written",
            "se_patient_authorization": "hipaa_authorization",
        }
    )

    assert level_of(definition, answers, "security") >= 3


@needs_v2
def test_every_dimension_has_level_5_gates_and_reaches_5_with_its_best_answers():
    definition = v2().definition
    best = all_best(definition)

    for dimension in definition.dimensions:
        gated = [
            q.id
            for q in definition.questions_in(dimension.id)
            if any(g.level == 5 for g in q.gates)
        ]
        assert gated, f"{dimension.id} has no level-5 gate"
        assert level_of(definition, best, dimension.id) == 5


@needs_v2
def test_security_5_needs_an_exercised_incident_plan_and_retained_records():
    definition = v2().definition
    best = all_best(definition)

    assert level_of(definition, {**best, "se_incident_readiness": "tested"}, "security") < 5
    assert level_of(definition, {**best, "se_compliance_records": "partly"}, "security") < 5


@needs_v2
def test_every_dimension_describes_its_five_levels_in_its_own_terms():
    definition = v2().definition

    for dimension in definition.dimensions:
        assert dimension.levels is not None, dimension.id
        assert [lv.name for lv in dimension.levels] == [lv.name for lv in definition.levels]
        generic = {lv.description for lv in definition.levels}
        assert not generic & {lv.description for lv in dimension.levels}


@needs_v2
def test_every_catalogue_action_is_sold_through_a_service_that_delivers_its_kind():
    catalogue = v2().catalogue
    assert catalogue is not None, "catalogue-v2.yaml is not loaded beside v2.yaml"
    services = {s.id: s for s in catalogue.services}

    for action in catalogue.actions:
        assert action.kind is not None, action.id
        delivering = [s for s in action.services if action.kind in (services[s].delivers or ())]
        assert delivering, f"{action.id}: no service delivers {action.kind.value}"
