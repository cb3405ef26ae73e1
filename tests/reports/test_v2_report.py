"""A version-2 assessment's report: its own level meanings, sources, staff time, in-house paths.

Skipped until questionnaires/hospital-social-media/v2.yaml (and its catalogue) exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from app.questionnaire.rules import is_scored
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    YesNoQuestion,
)
from app.questionnaire.visibility import visible_questions
from app.reports.render import render_html
from app.reports.view import OrganizationInfo, build_report_view
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.scoring.engine import question_score, score_answers
from tests.reports.conftest import flat_text, weasyprint_warnings
from tests.support.questionnaires import loaded_by_key

LOADED = loaded_by_key()
V2 = LOADED.get(("hospital-social-media", 2))
pytestmark = pytest.mark.skipif(
    V2 is None or V2.catalogue is None,
    reason="questionnaires/hospital-social-media/v2.yaml and catalogue-v2.yaml are not there yet",
)
SMALL = OrganizationInfo(
    "Pine Valley Critical Access Hospital", "critical_access_hospital", 25, "MT"
)


def weakest_value(question: Question) -> Any:
    """An answer that scores the least this question can (a hospital just starting out)."""
    match question:
        case SingleChoiceQuestion(options=options):
            return min(options, key=lambda o: o.score).value
        case MultipleChoiceQuestion(options=options):
            exclusive = [o.value for o in options if o.exclusive]
            return exclusive[:1] or [min(options, key=lambda o: o.score).value]
        case YesNoQuestion(yes_score=yes, no_score=no):
            return yes < no
        case ScaleQuestion(min=low):
            return low
        case NumberQuestion(min=low, max=high):
            candidates = [low, high, *[b.at_least for b in question.bands if low <= b.at_least]]
            value = min(candidates, key=lambda v: question_score(question, v) or 0.0)
            return int(value) if question.integer else value
    raise AssertionError(question.id)


def starting_answers(definition: QuestionnaireDefinition) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in definition.questions:
        shown = question.show_if is None or question.id in visible_questions(definition, answers)
        if shown and is_scored(question):
            answers[question.id] = weakest_value(question)
    return answers


@pytest.fixture(scope="module")
def rendered() -> tuple[Any, str, str]:
    from io import BytesIO

    from pypdf import PdfReader

    from app.reports.render import render_pdf

    assert V2 is not None
    assert V2.catalogue is not None
    definition = V2.definition
    answers = starting_answers(definition)
    comments = {"se_account_access": "The password is in the shared marketing inbox."}
    roadmap = plan_roadmap(definition, V2.catalogue, answers, PlanOptions(SMALL.licensed_beds))
    view = build_report_view(
        definition,
        score_answers(definition, answers),
        roadmap,
        SMALL,
        answers,
        comments,
        date(2026, 11, 2),
    )
    html = render_html(view)
    with weasyprint_warnings() as warnings:
        pdf = render_pdf(html)
    assert warnings == []
    return view, html, flat_text(PdfReader(BytesIO(pdf)))


def test_each_dimension_page_defines_its_level_in_the_dimensions_own_terms(rendered):
    view, _, text = rendered
    assert V2 is not None

    for page in view.dimensions:
        dimension = V2.definition.dimension(page.id)
        assert dimension is not None
        assert dimension.levels is not None
        own = dimension.levels[page.level - 1].description
        assert page.level_description == own
        assert " ".join(own.split()) in text


def test_the_sources_appendix_lists_every_cited_source(rendered):
    view, html, text = rendered
    assert V2 is not None
    cited = [q for q in V2.definition.questions if q.sources]

    assert "Appendix C. Sources" in text
    assert len(view.sources) == len(cited)
    for question in cited:
        for source in question.sources:
            if source.url:
                assert f'href="{source.url}"' in html


def test_actions_show_staff_hours_and_the_in_house_path(rendered):
    view, _, text = rendered
    actions = [a for phase in view.phases for a in phase.actions]

    assert actions
    assert all(a.staff_hours for a in actions)
    assert any(a.in_house for a in actions)
    assert "Can be done in-house:" in text
    assert "staff hours of your own" in text


def test_the_comment_is_not_printed_and_no_question_id_appears(rendered):
    _, _, text = rendered
    assert V2 is not None

    assert "shared marketing inbox" not in text
    assert "answered (not printed)" in text
    for question in V2.definition.questions:
        assert f" {question.id} " not in f" {text} "


def test_the_board_brief_names_the_decision_both_yearly_totals_and_the_risks(rendered):
    view, _, text = rendered
    brief = view.brief
    assert "Board brief" in text
    opening = text.split("What it costs")[0]

    assert "the decision asked of the board" in opening.lower()
    assert " ".join(brief.decision.split()) in opening
    assert f"Year 1: {brief.year_one_total}" in opening
    assert f"Year 2: {brief.year_two_total}" in opening
    assert len(brief.risks) == 3
    for risk in brief.risks:
        assert " ".join(risk.title.split()) in opening
    assert "This report is not legal advice." in text
