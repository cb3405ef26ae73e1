"""The shipped roadmap catalogue for hospital-social-media v2: honest services, prices, paths.

Besides the coverage rules of version 1 (every scored question can reach its best answer,
every gate can be passed), version 2 holds the catalogue to what it claims: each action is
bought from services that really deliver that kind of work, a competent team has a
do-it-yourself path wherever one is honest, recurring costs are marked, workforce-wide
licences scale with headcount, and the membership is only offered at a price that beats
paying list price for what its points buy.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import PROJECT_ROOT
from app.questionnaire.answers import NA
from app.questionnaire.catalogue import (
    Action,
    ActionKind,
    Catalogue,
    Recurrence,
    Service,
    ServiceKind,
    SizeBand,
)
from app.questionnaire.loader import LoadedDefinition
from app.questionnaire.rules import is_scored, score_range
from app.questionnaire.schemas import Question, QuestionnaireDefinition
from app.questionnaire.visibility import visible_questions
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.scoring.engine import question_score
from tests.strategies import is_asked, values_for
from tests.support.questionnaires import loaded_version

QUESTIONNAIRES = PROJECT_ROOT / "questionnaires"
BANDS_BY_SIZE = ("small", "community", "regional", "academic")

# What a reader expects to pay again: course licences, the yearly exercise, the yearly
# independent review, the conference and the membership every year, and the program review
# every quarter. Nothing else recurs.
EXPECTED_RECURRING = {
    "center_membership": Recurrence.YEARLY,
    "phi_safe_posting_course": Recurrence.YEARLY,
    "clinician_boundaries_course": Recurrence.YEARLY,
    "accessible_content_course": Recurrence.YEARLY,
    "crisis_tabletop": Recurrence.YEARLY,
    "compliance_program_review": Recurrence.YEARLY,
    "annual_conference": Recurrence.YEARLY,
    "quarterly_program_review": Recurrence.QUARTERLY,
}

# Licences for the whole workforce scale with headcount; seats for named people per seat.
EXPECTED_PER_100_STAFF = {"phi_safe_posting_course", "clinician_boundaries_course"}
EXPECTED_PER_SEAT = {"social_team_certificate", "annual_conference"}

# Kinds of work a competent hospital team can always do alone with a guide or template.
DIY_KINDS = {ActionKind.ACCOUNT_SECURITY, ActionKind.POLICY, ActionKind.PROCESS}

# Questions where a hospital one step below the top can take a cheaper, earlier step.
GRADED_QUESTIONS = (
    "pr_official_accounts",
    "pr_platform_fit",
    "pr_orphaned_accounts",
    "pr_posts_per_week",
    "pr_clinician_participation",
    "pr_accessibility",
    "co_strategy",
    "co_owner",
    "co_editorial_calendar",
    "co_brand_guidelines",
    "co_approval_workflow",
    "co_moderation_rules",
    "co_response_hours",
    "co_measurement",
    "co_crisis_playbook",
    "co_account_inventory",
    "se_policy_acknowledged",
    "se_phi_training",
    "se_patient_authorization",
    "se_filming_recording",
    "se_personal_accounts",
    "se_review_responses",
    "se_account_access",
    "se_incident_readiness",
    "se_tracking_technologies",
    "se_ad_audiences",
    "se_compliance_review",
)

# Actions with no do-it-yourself path, because a team cannot honestly carry them alone:
# a lasting multi-specialty ambassador program needs an outside program design.
WITHOUT_DIY = {"pr_launch_ambassador_program"}

# Offered for professional development; attending changes no answer by itself, so no
# action is bought through it (version 1 wrongly sold it as a captioned video series).
NOT_AN_ACTION_SERVICE = {"center_membership", "annual_conference"}

# The most a "free or low-cost" resource may cost at any size.
RESOURCE_PRICE_CAP = 1500


@pytest.fixture(scope="module")
def loaded() -> LoadedDefinition:
    return loaded_version(2)


@pytest.fixture(scope="module")
def definition(loaded: LoadedDefinition) -> QuestionnaireDefinition:
    return loaded.definition


@pytest.fixture(scope="module")
def catalogue(loaded: LoadedDefinition) -> Catalogue:
    assert loaded.catalogue is not None, "catalogue-v2.yaml was not loaded beside v2.yaml"
    return loaded.catalogue


@pytest.fixture(scope="module")
def services(catalogue: Catalogue) -> dict[str, Service]:
    return {s.id: s for s in catalogue.services}


@pytest.fixture(scope="module")
def bands(catalogue: Catalogue) -> list[SizeBand]:
    return sorted(catalogue.size_bands, key=lambda b: b.min_beds)


def answer(value: Any) -> Any:
    """A change's target as an answer: the catalogue keeps multiple choices as tuples."""
    return list(value) if isinstance(value, tuple) else value


def question_of(definition: QuestionnaireDefinition, question_id: str) -> Question:
    question = definition.question(question_id)
    assert question is not None, question_id
    return question


def reached_score(question: Question, value: Any) -> float:
    score = question_score(question, answer(value))
    assert score is not None, question.id
    return score


def reaches(definition: QuestionnaireDefinition, action: Action, question_id: str) -> list[float]:
    """The scores ``action`` takes ``question_id`` to (empty if it does not change it)."""
    question = question_of(definition, question_id)
    return [reached_score(question, c.to) for c in action.changes if c.question == question_id]


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


def catalogue_text(catalogue: Catalogue) -> list[tuple[str, str]]:
    """Every piece of prose a reader sees, with where it comes from."""
    texts = [
        (f"service {s.id}", f"{s.title} {s.description} {s.duration}") for s in catalogue.services
    ]
    for action in catalogue.actions:
        texts.append((f"action {action.id}", f"{action.title} {action.rationale}"))
        if action.diy is not None:
            texts.append((f"action {action.id} diy", action.diy.how))
    return texts


# ---------------------------------------------------------------- shape and size bands


def test_catalogue_v2_loads_beside_questionnaire_v2_with_the_v1_size_bands(loaded, catalogue):
    assert loaded.catalogue_hash is not None
    assert (catalogue.questionnaire, catalogue.version) == ("hospital-social-media", 2)
    assert catalogue.currency == "USD"
    assert [b.id for b in catalogue.size_bands] == list(BANDS_BY_SIZE)
    assert [b.min_beds for b in catalogue.size_bands] == [0, 100, 300, 500]


def test_every_band_states_a_workforce_headcount_that_grows_with_size(bands):
    headcounts = [b.staff for b in bands]

    assert all(isinstance(h, int) and h > 0 for h in headcounts), headcounts
    assert all(a < b for a, b in pairwise(headcounts)), headcounts
    # Roughly 7 people per staffed bed (AHA), so a band's headcount must at least cover
    # its smallest hospital and stay short of an implausible 20 per bed of its largest.
    for band, following in zip(bands, [*bands[1:], None], strict=True):
        largest = following.min_beds - 1 if following else 1500
        assert band.staff is not None
        assert max(band.min_beds, 25) * 3 <= band.staff <= largest * 20, band.id


# ---------------------------------------------------------------- honest delivery


def test_every_action_is_bought_from_a_service_that_delivers_its_kind(catalogue, services):
    undelivered = [
        f"{a.id} ({a.kind})"
        for a in catalogue.actions
        if not any(a.kind in (services[s].delivers or ()) for s in a.services)
    ]

    assert undelivered == [], f"actions no listed service delivers: {', '.join(undelivered)}"


def test_every_action_has_a_kind_and_staff_hours_for_every_band(catalogue):
    incomplete = [
        a.id
        for a in catalogue.actions
        if a.kind is None or a.staff_hours is None or set(a.staff_hours) != set(BANDS_BY_SIZE)
    ]

    assert incomplete == []


def test_staff_hours_never_fall_as_bands_grow_and_fit_the_weeks_given(catalogue):
    falling, overloaded = [], []
    for action in catalogue.actions:
        assert action.staff_hours is not None
        for hours in [action.staff_hours, *([action.diy.staff_hours] if action.diy else [])]:
            if any(hours[a] > hours[b] for a, b in pairwise(BANDS_BY_SIZE)):
                falling.append(action.id)
        # A small hospital's program is a part-time job: no action may need more than
        # about half of one person's week for the weeks it is given.
        diy_hours = action.diy.staff_hours["small"] if action.diy else 0
        if max(action.staff_hours["small"], diy_hours) > 20 * action.effort_weeks:
            overloaded.append(action.id)

    assert falling == [], f"staff hours fall with size for: {', '.join(falling)}"
    assert overloaded == [], f"more hours than a small team has in the weeks: {overloaded}"


def test_a_conference_or_a_course_only_ever_delivers_training(services):
    overclaiming = [
        f"{s.id}: {[k.value for k in s.delivers or ()]}"
        for s in services.values()
        if s.kind in (ServiceKind.CONFERENCE, ServiceKind.ONLINE_TRAINING)
        and set(s.delivers or ()) != {ActionKind.TRAINING}
    ]

    assert overclaiming == []


def test_a_membership_delivers_nothing_and_is_never_an_action_service(catalogue, services):
    memberships = catalogue.memberships()
    listed = {s for a in catalogue.actions for s in a.services}

    assert [m.id for m in memberships] == ["center_membership"]
    assert all(m.delivers == () for m in memberships)
    assert not listed & {m.id for m in memberships}


# ---------------------------------------------------------------- do-it-yourself paths


def test_every_diy_resource_is_a_resource_service(catalogue, services):
    wrong = [
        f"{a.id}: {r}"
        for a in catalogue.actions
        if a.diy is not None
        for r in a.diy.resources
        if services[r].kind is not ServiceKind.RESOURCE
    ]

    assert wrong == []


def test_account_security_policy_and_process_actions_can_be_done_in_house(catalogue):
    without_diy = [a.id for a in catalogue.actions if a.kind in DIY_KINDS and a.diy is None]

    assert without_diy == [], f"no do-it-yourself path for: {', '.join(without_diy)}"


def test_every_account_security_diy_path_uses_the_free_setup_guide(catalogue, services):
    guide = services["account_security_guide"]
    missing = [
        a.id
        for a in catalogue.actions
        if a.kind is ActionKind.ACCOUNT_SECURITY
        and a.diy is not None
        and "account_security_guide" not in a.diy.resources
        and "account_inventory_workbook" not in a.diy.resources
    ]

    assert all(p == 0 for p in guide.prices.values())
    assert missing == []


def test_only_the_actions_a_team_cannot_carry_alone_lack_a_diy_path(catalogue):
    without = {a.id for a in catalogue.actions if a.diy is None}

    assert without == WITHOUT_DIY


def test_no_diy_path_claims_to_use_a_paid_center_service_or_outside_audit(catalogue, services):
    # A do-it-yourself path buys nothing but free or low-cost resources.
    dear = [
        f"{a.id}: {r}"
        for a in catalogue.actions
        if a.diy is not None
        for r in a.diy.resources
        if any(services[r].price_for(b) > RESOURCE_PRICE_CAP for b in catalogue.size_bands)
    ]

    assert dear == []


def test_doing_it_yourself_takes_at_least_the_staff_time_of_the_center_path(catalogue):
    cheaper_in_house = [
        a.id
        for a in catalogue.actions
        if a.diy is not None
        and a.staff_hours is not None
        and any(a.diy.staff_hours[b] < a.staff_hours[b] for b in BANDS_BY_SIZE)
    ]

    assert cheaper_in_house == []


def test_resources_are_free_or_low_cost_and_at_least_one_is_free_at_every_size(services, bands):
    resources = [s for s in services.values() if s.kind is ServiceKind.RESOURCE]
    too_dear = [s.id for s in resources for b in bands if s.price_for(b) > RESOURCE_PRICE_CAP]

    assert len(resources) >= 6
    assert too_dear == []
    assert all(any(s.price_for(b) == 0 for s in resources) for b in bands)


# ---------------------------------------------------------------- coverage of v2


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
    unmet = [
        f"{question.id} (level {gate.level})"
        for question in definition.questions
        for gate in question.gates
        if not any(
            score >= gate.min_score
            for action in catalogue.actions
            for score in reaches(definition, action, question.id)
        )
    ]

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


def test_every_level_3_security_baseline_has_a_step_costing_under_2000_dollars(
    definition, catalogue, services, bands
):
    """The baseline controls Security level 3 requires can be met cheaply: with a free guide
    or template (the do-it-yourself path), or a Center path under $2,000 for a small
    hospital, never only through a large consulting engagement."""
    small = bands[0]
    expensive = []
    for question in definition.questions:
        if question.dimension != "security":
            continue
        for gate in question.gates:
            if gate.level != 3:
                continue
            meeting = [
                a
                for a in catalogue.actions
                if any(s >= gate.min_score for s in reaches(definition, a, question.id))
            ]
            cheap = [
                a
                for a in meeting
                if a.diy is not None or sum(services[s].price_for(small) for s in a.services) < 2000
            ]
            if not cheap:
                expensive.append(question.id)

    assert expensive == []


@pytest.mark.parametrize(
    ("question_id", "answer_value"),
    [
        ("pr_account_ownership", "organization"),
        ("se_account_access", "mfa_all"),
        ("se_shared_logins", False),
        ("se_offboarding_hours", 8),
    ],
)
def test_account_security_basics_are_sold_as_a_clinic_not_a_large_review(
    definition, catalogue, services, bands, question_id, answer_value
):
    """Moving recovery to hospital addresses, MFA, individual logins and same-day
    off-boarding cost a small hospital under $2,000 on the Center path."""
    question = question_of(definition, question_id)
    wanted = reached_score(question, answer_value)
    small = bands[0]
    costs = [
        sum(services[s].price_for(small) for s in a.services)
        for a in catalogue.actions
        if any(score >= wanted for score in reaches(definition, a, question_id))
    ]

    assert costs, question_id
    assert min(costs) < 2000, (question_id, costs)


def test_training_on_a_policy_comes_after_the_policy(catalogue):
    unordered = [
        a.id
        for a in catalogue.actions
        if a.kind is ActionKind.TRAINING
        and a.dimension == "security"
        and not any(p.kind is ActionKind.POLICY for p in prerequisites(catalogue, a))
    ]

    assert unordered == [], f"security training before any policy: {', '.join(unordered)}"


def test_an_exercise_comes_after_the_plan_it_exercises(catalogue):
    unordered = [
        a.id
        for a in catalogue.actions
        if a.kind is ActionKind.EXERCISE
        and not any(p.kind is ActionKind.PROCESS for p in prerequisites(catalogue, a))
    ]

    assert unordered == []


def test_every_service_is_used_by_an_action_or_a_diy_path_except_the_listed_ones(
    catalogue, services
):
    used = {s for a in catalogue.actions for s in a.services}
    used |= {r for a in catalogue.actions if a.diy is not None for r in a.diy.resources}
    unused = {s for s in services if s not in used}

    assert unused == NOT_AN_ACTION_SERVICE


# ---------------------------------------------------------------- prices


def test_every_service_has_a_price_for_every_size_band(services, bands):
    unpriced = []
    for service in services.values():
        for band in bands:
            try:
                price = service.price_for(band)
            except (KeyError, ValueError):
                unpriced.append(f"{service.id} at {band.id}")
                continue
            if price < 0:
                unpriced.append(f"{service.id} at {band.id}")

    assert unpriced == []


def test_prices_never_fall_as_size_bands_grow(services, bands):
    falling = [
        s.id
        for s in services.values()
        if any(s.price_for(a) > s.price_for(b) for a, b in pairwise(bands))
    ]

    assert falling == [], f"prices fall with size for: {', '.join(falling)}"


def test_paid_center_services_cost_something_and_stay_within_2026_list_ranges(services, bands):
    # Consulting and on-site work: a few thousand dollars for a small hospital up to the
    # low tens of thousands for an academic center; nothing is free but the resources.
    out_of_range = [
        f"{s.id} at {b.id}: {s.price_for(b)}"
        for s in services.values()
        if s.kind is not ServiceKind.RESOURCE
        for b in bands
        if not 100 <= s.price_for(b) <= 75_000
    ]

    assert out_of_range == []


def test_recurring_services_are_the_ones_a_reader_expects(services):
    recurring = {
        s.id: s.recurring for s in services.values() if s.recurring is not Recurrence.ONE_OFF
    }
    said = {
        Recurrence.YEARLY: r"\b(yearly|annual|every year|renewed)\b",
        Recurrence.QUARTERLY: r"\b(quarterly|every quarter)\b",
    }
    unsaid = [
        s for s, how in recurring.items() if not re.search(said[how], services[s].duration, re.I)
    ]

    assert recurring == EXPECTED_RECURRING
    assert unsaid == [], f"recurring services whose duration does not say so: {unsaid}"


def test_workforce_licences_are_priced_by_headcount_and_named_seats_per_seat(services, bands):
    per_100 = {s.id for s in services.values() if s.per_100_staff is not None}
    per_seat = {s.id for s in services.values() if s.per_seat is not None}

    assert per_100 == EXPECTED_PER_100_STAFF
    assert per_seat == EXPECTED_PER_SEAT
    course = services["phi_safe_posting_course"]
    for band in bands:
        assert band.staff is not None
        assert course.price_for(band) == math.ceil(band.staff / 100) * course.per_100_staff
        # Under about two dollars a learner a year: an ordinary compliance-module price.
        assert course.price_for(band) / band.staff <= 2


def test_points_are_only_on_flat_priced_training_and_events(services):
    wrong = [
        s.id
        for s in services.values()
        if s.points is not None
        and (
            s.kind
            not in (
                ServiceKind.IN_PERSON_TRAINING,
                ServiceKind.ONLINE_TRAINING,
                ServiceKind.CONFERENCE,
            )
            or s.prices is None
        )
    ]

    assert wrong == []
    assert any(s.points for s in services.values())


def test_membership_is_cheaper_than_buying_its_points_worth_at_list_price(services, bands):
    """At every size, the membership's yearly price is below what its points would buy at
    the least favourable list price per point, and its points buy at least one workshop or
    exercise outright."""
    membership = services["center_membership"]
    redeemable = [s for s in services.values() if s.points]
    assert membership.grants_points is not None
    for band in bands:
        granted = membership.grants_points[band.id]
        worst_rate = min(s.price_for(band) / s.points for s in redeemable)
        assert membership.price_for(band) < granted * worst_rate, band.id
        assert any(
            s.points <= granted for s in redeemable if s.kind is ServiceKind.IN_PERSON_TRAINING
        ), band.id
        # ...yet not a giveaway: the membership costs more than the cheapest course it covers.
        assert membership.price_for(band) > min(s.price_for(band) for s in redeemable), band.id


def test_membership_grants_more_points_and_costs_more_as_bands_grow(services, bands):
    membership = services["center_membership"]
    assert membership.grants_points is not None
    granted = [membership.grants_points[b.id] for b in bands]
    prices = [membership.price_for(b) for b in bands]

    assert all(a < b for a, b in pairwise(granted))
    assert all(a < b for a, b in pairwise(prices))
    assert membership.recurring is Recurrence.YEARLY


# ---------------------------------------------------------------- words


# ---------------------------------------------------------------- the planner over v2

V2_ITEM = loaded_version(2)
BEDS_BY_BAND = {"small": 25, "community": 250, "regional": 400, "academic": 800}


@st.composite
def v2_answers(draw: st.DrawFn) -> dict[str, Any]:
    """A complete, valid v2 answer set; questions allowing N/A are sometimes N/A."""
    definition = V2_ITEM.definition
    answers: dict[str, Any] = {}
    asked: set[str] = set()
    for question in definition.questions:
        if not is_asked(question, answers, asked):
            continue
        asked.add(question.id)
        if question.allow_na and draw(st.integers(0, 3)) == 0:
            answers[question.id] = NA
        else:
            answers[question.id] = draw(values_for(question))
    return answers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=v2_answers(), band=st.sampled_from(sorted(BEDS_BY_BAND)))
def test_from_any_answers_every_dimension_can_be_planned_to_level_5(answers, band):
    """Whatever a hospital answers, at any size, the catalogue holds a verified path to
    level 5 in every dimension: no gate is left without an action that passes it."""
    assert V2_ITEM.catalogue is not None
    roadmap = plan_roadmap(
        V2_ITEM.definition,
        V2_ITEM.catalogue,
        answers,
        PlanOptions(
            licensed_beds=BEDS_BY_BAND[band],
            targets={"presence": 5, "consistency": 5, "security": 5},
        ),
    )

    assert roadmap.unreachable == ()
    assert {p.dimension_id: p.level for p in roadmap.projected} == {
        "presence": 5,
        "consistency": 5,
        "security": 5,
    }


def test_the_security_baseline_costs_nothing_in_center_fees_on_the_diy_paths(catalogue):
    """Every action on the way to Security level 3 from the worst answers can be done
    in-house with resources that are free for a small hospital."""
    definition = V2_ITEM.definition
    worst: dict[str, Any] = {}
    for question in definition.questions:
        if is_scored(question) and question.show_if is None:
            options = getattr(question, "options", None)
            if options is not None and question.type == "single_choice":
                worst[question.id] = min(options, key=lambda o: o.score).value
    roadmap = plan_roadmap(
        definition, catalogue, worst, PlanOptions(licensed_beds=25, targets={"security": 3})
    )
    by_id = {a.id: a for a in catalogue.actions}
    small = catalogue.size_bands[0]
    services = {s.id: s for s in catalogue.services}
    planned = [a.action_id for phase in roadmap.phases for a in phase.actions]
    security = [by_id[a] for a in planned if by_id[a].dimension == "security"]

    assert security, "the worst answers need security work"
    for action in security:
        assert action.diy is not None, action.id
        assert all(services[r].price_for(small) == 0 for r in action.diy.resources), action.id


def test_catalogue_says_authorization_where_hipaa_means_it(catalogue):
    # 42 CFR Part 2 itself speaks of "consent" for substance use disorder records.
    consent = [
        where
        for where, text in catalogue_text(catalogue)
        if re.search(r"\bconsent", text.replace("Part 2 consent", ""), re.I)
    ]

    assert consent == [], f"'consent' where HIPAA means authorization: {consent}"


def test_breach_timing_is_never_stated_as_a_bare_60_day_allowance(catalogue):
    bare = [
        where
        for where, text in catalogue_text(catalogue)
        if "60 days" in text and "without unreasonable delay" not in text
    ]

    assert bare == []


def test_no_text_promises_that_a_paid_badge_is_needed(catalogue):
    # Presence scores fit, not badges bought: no action tells a hospital to buy verification.
    promising = [
        where
        for where, text in catalogue_text(catalogue)
        if where.startswith("action")
        and re.search(r"\b(buy|purchase|subscribe to)\b[^.]*\bverif", text, re.I)
    ]

    assert promising == []
