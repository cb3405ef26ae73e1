"""The shipped questionnaire hospital-social-media v2 holds to what it claims.

These are content tests: they name the questions and answers that carry each claim
(baseline controls at Security level 3, the defining practices of level 5, sourced help,
HIPAA's "authorization", warnings against patient identifiers in free text). The generic
properties of any definition (gates passable, scores monotone) are tested elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import PROJECT_ROOT
from app.questionnaire.answers import NA
from app.questionnaire.rules import is_scored
from app.questionnaire.schemas import (
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
from app.scoring.engine import question_score, score_answers
from tests.support.questionnaires import definition_of

V2 = PROJECT_ROOT / "questionnaires" / "hospital-social-media" / "v2.yaml"
DIMENSIONS = ("presence", "consistency", "security")


@pytest.fixture(scope="module")
def definition() -> QuestionnaireDefinition:
    return definition_of(2)


# ----------------------------------------------------------------- helpers


def best_answer(question: Question) -> Any:
    match question:
        case SingleChoiceQuestion(options=options):
            return max(options, key=lambda o: o.score).value
        case MultipleChoiceQuestion(options=options):
            return [o.value for o in options if not o.exclusive]
        case YesNoQuestion(yes_score=yes, no_score=no):
            return yes >= no
        case ScaleQuestion(max=high):
            return high
        case NumberQuestion(bands=bands):
            return max(bands, key=lambda b: b.score).at_least
        case TextQuestion():
            return "Answered in general terms."
    raise AssertionError(question.type)


def best_answers(definition: QuestionnaireDefinition, **overrides: Any) -> dict[str, Any]:
    """The best answer to every question asked, with some answers replaced."""
    answers = {q.id: best_answer(q) for q in definition.questions}
    answers.update(overrides)
    asked = visible_questions(definition, answers)
    return {qid: value for qid, value in answers.items() if qid in asked}


def levels_for(definition: QuestionnaireDefinition, answers: dict[str, Any]) -> dict[str, int]:
    return dict(score_answers(definition, answers).levels)


def passes_gates_up_to(question: Question, value: Any, level: int) -> bool:
    """Whether this answer meets every gate the question sets at ``level`` or below."""
    score = question_score(question, value)
    if score is None:  # not applicable counts as meeting the gates
        return True
    return all(score >= g.min_score for g in question.gates if g.level <= level)


def respondent_text(definition: QuestionnaireDefinition) -> Iterator[tuple[str, str]]:
    """Every piece of text a respondent or a report reader sees, with where it is."""
    yield "title", definition.title
    yield "description", definition.description
    for level in definition.levels:
        yield f"levels.{level.level}", level.description
    for dimension in definition.dimensions:
        yield f"{dimension.id}.description", dimension.description
        for level in dimension.levels or ():
            yield f"{dimension.id}.levels.{level.level}", level.description
    for q in definition.questions:
        yield f"{q.id}.prompt", q.prompt
        yield f"{q.id}.help", q.help
        if q.evidence:
            yield f"{q.id}.evidence", q.evidence
        if q.na_label:
            yield f"{q.id}.na_label", q.na_label
        if isinstance(q, SingleChoiceQuestion | MultipleChoiceQuestion):
            for option in q.options:
                yield f"{q.id}.{option.value}", option.label
        if isinstance(q, ScaleQuestion):
            for point, label in q.labels.items():
                yield f"{q.id}.{point}", label
        if isinstance(q, NumberQuestion):
            for band in q.bands:
                if band.label:
                    yield f"{q.id}.band.{band.at_least:g}", band.label


# ----------------------------------------------------------------- shape


def test_v2_is_a_new_version_beside_v1_with_the_same_dimensions(definition):
    assert (definition.id, definition.version) == ("hospital-social-media", 2)
    assert [d.id for d in definition.dimensions] == list(DIMENSIONS)


def test_v2_stays_answerable_in_about_forty_minutes(definition):
    asked_always = [q for q in definition.questions if q.show_if is None]

    assert 50 <= len(definition.questions) <= 65
    assert len(asked_always) <= 60


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_each_dimension_describes_its_own_five_levels(definition, dimension):
    own = definition.dimensions[DIMENSIONS.index(dimension)].levels
    generic = {level.description for level in definition.levels}
    others = {
        level.description
        for d in definition.dimensions
        if d.id != dimension
        for level in d.levels or ()
    }

    assert own is not None
    assert [level.level for level in own] == [1, 2, 3, 4, 5]
    assert [level.name for level in own] == [level.name for level in definition.levels]
    assert not {level.description for level in own} & (generic | others)


def test_level_descriptions_define_the_level_rather_than_describe_a_client(definition):
    # A level is a definition ("Privacy rests on individual judgment: ..."), never a
    # statement about the hospital being assessed ("the hospital owns its accounts").
    claims = re.compile(r"\b(we|our|your|the hospital (owns|has|is))\b", re.IGNORECASE)
    texts = [level.description for level in definition.levels] + [
        level.description for d in definition.dimensions for level in d.levels or ()
    ]

    assert [t for t in texts if claims.search(t)] == []
    assert all(":" in t.split(". ")[0] for t in texts), "each opens with 'X is Y: ...'"


def test_every_question_has_a_prompt_and_help_that_says_something(definition):
    lacking = [q.id for q in definition.questions if not q.prompt or len(q.help) < 80]

    assert lacking == []


def test_no_internal_identifier_is_shown_to_respondents(definition):
    ids = {q.id for q in definition.questions} | {d.id + "_" for d in definition.dimensions}
    pattern = re.compile(r"\b(pr|co|se)_[a-z0-9_]+\b")

    leaks = [
        (where, m.group())
        for where, text in respondent_text(definition)
        for m in pattern.finditer(text)
    ]

    assert leaks == [], ids


def test_every_gated_question_says_what_a_reviewer_would_ask_to_see(definition):
    lacking = [q.id for q in definition.questions if q.gates and not q.evidence]

    assert lacking == []


# ----------------------------------------------------------------- sources and wording

CITES_A_RULE_OR_FACT = re.compile(
    r"\bCFR\b|\bHIPAA\b|\bOCR\b|\bHHS\b|National Labor Relations|\bNLRB\b|Stericycle|"
    r"\bPew\b|YouTube|\bMeta\b|Section 504|WCAG|Part 2|\bcourt\b|settlement|settled|penalt|"
    r"\d+\s?%|\$\d",
)


def test_every_help_that_cites_a_rule_regulator_platform_or_figure_lists_its_sources(
    definition,
):
    unsourced = [
        q.id for q in definition.questions if CITES_A_RULE_OR_FACT.search(q.help) and not q.sources
    ]

    assert unsourced == []


def test_sources_name_a_title_and_publisher_and_link_only_over_https(definition):
    for q in definition.questions:
        for source in q.sources:
            assert source.title, q.id
            assert source.publisher, q.id
            assert source.url is None or source.url.startswith("https://"), (q.id, source.url)


def test_regulations_are_cited_on_the_official_code_where_they_are_quoted(definition):
    cited = {
        m.group(1)
        for q in definition.questions
        for m in re.finditer(r"45 CFR (16[04]\.\d+)", q.help)
    }
    linked = {
        m.group(1)
        for q in definition.questions
        for s in q.sources
        if s.url
        for m in [re.search(r"ecfr\.gov/current/title-45/section-(16[04]\.\d+)", s.url)]
        if m
    }

    assert cited
    assert cited <= linked


def test_hipaa_authorization_is_never_called_consent(definition):
    # 45 CFR 164.508 speaks of authorization. "Consent" is right only for 42 CFR Part 2,
    # which has its own written-consent rules.
    misuse = [
        (where, sentence)
        for where, text in respondent_text(definition)
        for sentence in re.split(r"(?<=[.;:])\s+", text)
        if re.search(r"\bconsent", sentence, re.IGNORECASE) and "Part 2" not in sentence
    ]

    assert misuse == []


def test_patient_stories_and_filming_require_written_hipaa_authorization(definition):
    for qid in ("se_patient_authorization", "se_filming_recording", "se_ad_audiences"):
        help_text = definition.question(qid).help
        assert "written HIPAA authorization" in help_text, qid


def test_every_free_text_question_warns_against_patient_identifiers(definition):
    texts = [q for q in definition.questions if isinstance(q, TextQuestion)]

    assert texts
    for q in texts:
        assert "patient names" in q.help, q.id
        assert "identify" in q.help, q.id


def test_the_incident_narrative_promises_no_confidentiality_and_asks_for_no_patient_details(
    definition,
):
    help_text = definition.question("se_incidents_description").help

    assert "confidential" not in help_text.lower()
    assert "without patient names" in help_text
    assert "not printed in the board report unless" in help_text


def test_the_questionnaire_tells_respondents_never_to_enter_patient_details(definition):
    assert "Never enter patient names" in definition.description


# ----------------------------------------------------------------- facts stated rightly


def test_platform_reach_puts_youtube_before_facebook(definition):
    question = definition.question("pr_active_platforms")
    values = [o.value for o in question.options]

    assert values.index("youtube") < values.index("facebook") < values.index("instagram")
    assert "83% said they use YouTube, 68% Facebook and 47%" in question.help
    assert any("pewresearch.org" in (s.url or "") for s in question.sources)


def test_youtube_health_features_are_described_as_open_to_accredited_hospitals_without_applying(
    definition,
):
    question = definition.question("pr_official_source")

    assert "accredited hospitals are eligible" in question.help
    assert "without applying" in question.help
    assert any("support.google.com/youtube" in (s.url or "") for s in question.sources)


def test_breach_notice_is_described_with_its_deadline_and_every_notice(definition):
    help_text = definition.question("se_breach_procedure").help

    assert "without unreasonable delay and no later than 60 days" in help_text
    for notice in ("HHS", "media", "state", "four factors"):
        assert notice in help_text, notice
    assert "more than 500 residents of a state" in help_text


def test_tracking_help_states_the_bulletin_and_the_court_ruling_accurately(definition):
    help_text = definition.question("se_tracking_technologies").help

    for fact in ("December 2022", "revised March 2024", "Becerra", "June 2024", "vacated"):
        assert fact in help_text, fact
    assert "withdrew its appeal" in help_text


def test_review_replies_must_never_confirm_a_patient_relationship(definition):
    question = definition.question("se_review_responses")

    assert "never confirm that the reviewer is or was a patient" in question.help
    assert any("hhs.gov" in (s.url or "") for s in question.sources)


def test_vendor_help_requires_an_agreement_or_routing_rather_than_keeping_phi_out(definition):
    help_text = definition.question("se_vendor_baa").help

    assert "business associate agreement" in help_text
    assert "route patient messages out of it" in help_text
    assert "does not work" in help_text  # keeping PHI out of a shared inbox


def test_retention_is_six_years_under_164_530_j(definition):
    question = definition.question("se_compliance_records")

    assert "six years" in question.help
    assert "164.530(j)" in question.help
    assert any(s.url and s.url.endswith("section-164.530") for s in question.sources)


def test_labour_law_review_names_stericycle_and_lets_public_hospitals_answer_not_applicable(
    definition,
):
    question = definition.question("se_labour_review")

    assert "Stericycle" in question.help
    assert "2023" in question.help
    assert question.allow_na
    assert "government" in (question.na_label or "")


# ----------------------------------------------------------------- presence scores fit


def test_being_on_more_platforms_earns_nothing_by_itself(definition):
    count = definition.question("pr_active_platforms")
    fit = definition.question("pr_platform_fit")

    assert not is_scored(count)
    assert is_scored(fit)
    assert any(g.level == 3 for g in fit.gates)


def test_paid_badges_earn_credit_only_as_a_budgeted_decision(definition):
    question = definition.question("pr_official_source")
    best = max(question.options, key=lambda o: o.score)

    assert "free" in best.label
    assert "budget" in best.label
    assert not any("paid" in o.label and "budget" not in o.label for o in question.options)


# ----------------------------------------------------------------- gates mean what they say

# The baseline controls Security level 3 stands for: the question that carries each one,
# the answers that lack it and the answers that have it.
SECURITY_3_BASELINE = {
    "multi-factor authentication on every account": (
        "se_account_access",
        ["password_only", "mfa_some"],
        ["mfa_all", "mfa_managed"],
    ),
    "individual, not shared, logins": ("se_shared_logins", [True], [False]),
    "access removed the day someone leaves": ("se_offboarding_hours", [9, 24, 720], [0, 8]),
    "a written plan for a hijacked account or a disclosure": (
        "se_incident_readiness",
        ["none", "informal"],
        ["written", "tested", "exercised_revised"],
    ),
    "written HIPAA authorization before any patient appears": (
        "se_patient_authorization",
        ["verbal", "general_release"],
        ["hipaa_authorization", "authorization_tracked", NA],
    ),
    "a policy or guidelines under existing policies, acknowledged by staff": (
        "se_policy_acknowledged",
        ["none", "general_mention", "written_unacknowledged"],
        ["policy_acknowledged", "guidelines_acknowledged", "reviewed_acknowledged"],
    ),
    "recurring privacy training": ("se_phi_training", ["never", "hire_only"], ["annual_general"]),
    "replies to reviews that never confirm a patient": (
        "se_review_responses",
        ["no_rule", "careful_unwritten"],
        ["written_rule", "no_public_replies", "written_checked"],
    ),
    "written rules for filming in care areas": (
        "se_filming_recording",
        ["none", "case_by_case"],
        ["written_rules", "prohibited_written", "written_checked"],
    ),
    "no patient data in ad audiences": (
        "se_ad_audiences",
        ["patient_lists", "unknown", "care_page_retargeting"],
        ["no_patient_data", "no_patient_data_contracted", NA],
    ),
}


@pytest.mark.parametrize("control", sorted(SECURITY_3_BASELINE))
def test_security_level_3_gates_each_baseline_control(definition, control):
    qid, lacking, having = SECURITY_3_BASELINE[control]
    question = definition.question(qid)

    assert question.dimension == "security"
    assert any(g.level <= 3 for g in question.gates), f"{qid} does not gate level 3"
    assert [v for v in lacking if passes_gates_up_to(question, v, 3)] == []
    assert [v for v in having if not passes_gates_up_to(question, v, 3)] == []


@pytest.mark.parametrize("control", sorted(SECURITY_3_BASELINE))
def test_best_answers_without_one_baseline_control_stay_below_security_level_3(definition, control):
    qid, lacking, _ = SECURITY_3_BASELINE[control]

    for value in lacking:
        levels = levels_for(definition, best_answers(definition, **{qid: value}))
        assert levels["security"] <= 2, (qid, value)


def test_guidelines_under_existing_policies_reach_security_level_3_like_a_policy(definition):
    # The namesake clinic keeps its social media guidelines under its existing policies.
    with_policy = best_answers(definition, se_policy_acknowledged="policy_acknowledged")
    with_guidelines = best_answers(definition, se_policy_acknowledged="guidelines_acknowledged")

    assert levels_for(definition, with_guidelines)["security"] >= 3
    assert levels_for(definition, with_guidelines) == levels_for(definition, with_policy)


def test_reviewed_guidelines_can_reach_security_level_5(definition):
    option = next(
        o
        for o in definition.question("se_policy_acknowledged").options
        if o.value == "reviewed_acknowledged"
    )

    assert "policy or guidelines" in option.label
    assert levels_for(definition, best_answers(definition))["security"] == 5


# The practices that define level 5 in each dimension: the question, the answers that
# lack the practice and the answer that has it.
LEVEL_5_PRACTICES = {
    "security": {
        "incident plan exercised and revised within the year": (
            "se_incident_readiness",
            ["written", "tested"],
            ["exercised_revised"],
        ),
        "authorizations, policies and training records kept six years": (
            "se_compliance_records",
            ["unknown", "partly"],
            ["six_years"],
        ),
        "compliance audits social media yearly": (
            "se_compliance_review",
            ["consulted"],
            ["routine"],
        ),
    },
    "consistency": {
        "measurement drives change": ("co_measurement", ["monthly_report"], ["kpis_reviewed"]),
        "crisis playbook exercised and revised": (
            "co_crisis_playbook",
            ["written"],
            ["written_exercised"],
        ),
        "strategy revised from results": ("co_strategy", ["written_current"], ["written_revised"]),
    },
    "presence": {
        "reach measured and acted on": ("pr_reach", ["meaningful"], ["measured_acted"]),
        "platform fit rechecked against local evidence": (
            "pr_platform_fit",
            ["fit"],
            ["fit_reviewed"],
        ),
    },
}


@pytest.mark.parametrize(
    ("dimension", "practice"),
    sorted((d, p) for d, practices in LEVEL_5_PRACTICES.items() for p in practices),
)
def test_level_5_needs_its_defining_practice(definition, dimension, practice):
    qid, lacking, having = LEVEL_5_PRACTICES[dimension][practice]
    question = definition.question(qid)

    assert question.dimension == dimension
    assert any(g.level == 5 for g in question.gates)
    assert [v for v in lacking if passes_gates_up_to(question, v, 5)] == []
    assert [v for v in having if not passes_gates_up_to(question, v, 5)] == []
    for value in lacking:
        levels = levels_for(definition, best_answers(definition, **{qid: value}))
        assert levels[dimension] <= 4, (qid, value)


def test_consistency_level_3_needs_a_current_written_strategy_and_an_accountable_owner(
    definition,
):
    strategy = definition.question("co_strategy")
    owner = definition.question("co_owner")

    assert not passes_gates_up_to(strategy, "written_dated", 3)
    assert passes_gates_up_to(strategy, "written_current", 3)
    assert not passes_gates_up_to(owner, "named_part_time", 3)
    assert passes_gates_up_to(owner, "named_with_backup", 3)
    for qid, value in (("co_strategy", "written_dated"), ("co_owner", "named_part_time")):
        assert levels_for(definition, best_answers(definition, **{qid: value}))["consistency"] <= 2


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("level", [2, 3, 4, 5])
def test_each_dimension_gates_every_level_above_1(definition, dimension, level):
    assert any(g.level == level for q in definition.questions_in(dimension) for g in q.gates)


# ----------------------------------------------------------------- areas covered

NEW_AREAS = {
    "responding to online reviews": "se_review_responses",
    "tracking technologies on linked pages": "se_tracking_technologies",
    "paid social and ad audiences": "se_ad_audiences",
    "filming, photography and recording in care areas": "se_filming_recording",
    "staff personal accounts and direct messages": "se_personal_accounts",
    "minors and personal representatives": "se_minors_representatives",
    "sensitive record categories": "se_sensitive_records",
    "state law stricter than HIPAA": "se_state_law",
    "retention of authorizations, policies and training records": "se_compliance_records",
    "moderation of the hospital's own pages": "co_moderation_rules",
    "labour-law review of the staff rules": "se_labour_review",
    "privacy of hospital-hosted patient groups": "se_group_privacy",
    "vendor tools under business associate agreements": "se_vendor_baa",
    "breach assessment and notices": "se_breach_procedure",
}


@pytest.mark.parametrize("area", sorted(NEW_AREAS))
def test_each_privacy_area_regulators_enforce_is_asked_and_scored(definition, area):
    question = definition.question(NEW_AREAS[area])

    assert question is not None, area
    assert is_scored(question)
    assert question.show_if is None
