"""The view model: money and dates, the appendix, phases, unreachable targets, the HTML."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from markupsafe import escape

from app.reports.render import render_html
from app.reports.view import (
    OrganizationInfo,
    format_date,
    format_money,
    format_score,
    weeks_label,
)
from tests.reports.conftest import DEFINITION, report_case


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (12400, "USD", "$12,400"),
        (0, "USD", "$0"),
        (950, "USD", "$950"),
        (1_234_567, "USD", "$1,234,567"),
        (-500, "USD", "-$500"),
        (12400, "EUR", "12,400 EUR"),
    ],
)
def test_money_is_whole_units_with_thousands_separators(
    amount: int, currency: str, text: str
) -> None:
    assert format_money(amount, currency) == text


@pytest.mark.parametrize(
    ("score", "text"),
    [(35.3, "35.3"), (70.0, "70"), (0.0, "0"), (33.333, "33.3"), (None, "\u2013")],
)
def test_scores_show_at_most_one_decimal(score: float | None, text: str) -> None:
    assert format_score(score) == text


def test_dates_and_weeks_read_the_american_way() -> None:
    assert format_date(date(2025, 3, 3)) == "March 3, 2025"
    assert weeks_label(0, 1) == "Week 1"
    assert weeks_label(0, 13) == "Weeks 1\u201313"
    assert weeks_label(26, 52) == "Weeks 27\u201352"


def test_the_appendix_groups_every_asked_question_by_dimension() -> None:
    case = report_case("community-hospital")
    view = case.view()

    assert [s.title for s in view.appendix] == [d.title for d in DEFINITION.dimensions]
    for section in view.appendix:
        for row in section.rows:
            question = DEFINITION.question(row.question_id)
            assert question is not None
            assert question.dimension == section.dimension_id
    rows = {row.question_id: row for section in view.appendix for row in section.rows}
    assert "pr_platforms_other" not in rows  # a follow-up these answers do not call for
    assert set(case.answers) <= set(rows)
    assert rows["pr_official_accounts"].answer == (
        "We have official accounts on our main platforms, clearly branded as the hospital."
    )
    assert rows["pr_official_accounts"].score == "70"
    assert rows["pr_platforms"].answer == "Facebook"
    assert rows["co_response_standard"].answer == "No"
    assert rows["se_vendor_baa"].score == "\u2013"  # not applicable
    assert rows["se_incidents_description"].free_text
    assert rows["se_incidents_description"].score == "Not scored"
    # Free text and comments are withheld unless the consultant asks for them.
    assert rows["se_incidents_description"].answer == "Answered (not printed)"
    assert rows["pr_account_ownership"].comment is None
    assert rows["pr_account_ownership"].comment_withheld
    assert rows["pr_official_accounts"].comment is None
    assert not rows["pr_official_accounts"].comment_withheld
    printed = {
        r.question_id: r for s in case.view(include_narratives=True).appendix for r in s.rows
    }
    assert printed["pr_account_ownership"].comment == case.comments["pr_account_ownership"]
    assert printed["se_incidents_description"].answer == case.answers["se_incidents_description"]
    assert not printed["pr_account_ownership"].comment_withheld


def test_unanswered_questions_show_as_not_answered() -> None:
    case = report_case("community-hospital")
    answers = {k: v for k, v in case.answers.items() if k != "co_strategy"}
    view = replace(case, answers=answers).view()

    row = next(r for s in view.appendix for r in s.rows if r.question_id == "co_strategy")
    assert (row.answer, row.score) == ("Not answered", "\u2013")


def test_unreachable_targets_are_shown_plainly() -> None:
    case = report_case("community-hospital", budget=1000)
    assert case.roadmap.unreachable, "a $1,000 budget cannot reach every default target"

    view = case.view()
    html = render_html(view)

    assert len(view.unreachable) == len(case.roadmap.unreachable)
    for row, unreachable in zip(view.unreachable, case.roadmap.unreachable, strict=True):
        assert f"level {unreachable.target}" in row.title
        assert "out of reach" in row.title
        assert row.reason == unreachable.reason
        assert str(escape(unreachable.reason)) in html
    assert "Targets the plan cannot reach" in html
    assert "within a budget of $1,000" in html


def test_phases_are_the_plans_own_and_their_headers_span_their_actions() -> None:
    case = report_case("community-hospital")
    view = case.view()

    assert [p.title for p in view.phases] == [p.title for p in case.roadmap.phases if p.actions]
    first = view.phases[0]
    assert [a.number for a in first.actions] == list(range(1, len(first.actions) + 1))
    assert first.cost == "$18,050"
    last_month = max(a.end_month for a in case.roadmap.phases[0].actions)
    assert first.weeks == f"Months 1\u2013{last_month}"
    assert "more step" not in first.paragraph
    assert f"the last finishes in month {last_month}" in first.paragraph


def test_action_rows_carry_weeks_services_and_cost() -> None:
    view = report_case("community-hospital").view()
    actions = {a.title: a for p in view.phases for a in p.actions}

    owner = actions[
        "Name an accountable owner for social media and list the accounts they are responsible for"
    ]
    assert owner.weeks == "Month 1"
    assert owner.cost == "No added cost"
    assert [(s.title, s.price) for s in owner.services] == [
        ("Social Media Governance Template Library", "No charge")
    ]
    cadence = actions["Publish at least three posts a week from the shared calendar"]
    assert [s.price for s in cadence.services] == ["Already in the plan"]


def test_services_carry_kind_price_and_the_actions_they_serve() -> None:
    view = report_case("community-hospital").view()
    services = {s.title: s for s in view.services}

    review = services["Account Security and Compliance Review"]
    assert (review.kind, review.price) == ("Consulting", "$9,000")
    assert review.for_actions.startswith("For action")
    assert services["Social Media Governance Template Library"].for_actions == (
        "For actions 1 and 7"
    )
    assert view.services_total == "$18,050"
    assert view.size_band_label == "Under 100 beds: critical access and small hospitals"


def test_the_summary_and_dimension_views_say_where_things_stand() -> None:
    view = report_case("community-hospital").view()

    assert view.headline.startswith("Lakeside Community Hospital is at level 1 (Initial) overall")
    assert view.organization_details == "Community hospital · 60 licensed beds · MN"
    assert [r.current for r in view.level_rows] == [
        "2 · Developing",
        "1 · Initial",
        "2 · Developing",
    ]
    presence = view.dimensions[0]
    assert (presence.level, presence.score, presence.next_level) == (2, "35.3", "Level 3 · Defined")
    assert presence.next_level_summary == (
        "To reach level 3 (Defined): raise the score from 35.3 to 45 and meet the three "
        "requirements marked 3 in the table below."
    )
    assert [g.next_level for g in presence.failed_gates[:4]] == [True, True, True, False]
    assert all(g.level <= 4 for g in presence.failed_gates)  # up to target + 1
    ids = [g.question_id for g in presence.failed_gates]
    assert len(ids) == len(set(ids))  # each question once, at the lowest level it blocks
    assert len(presence.extremes) <= 3
    strongest = {r.question_id for r in presence.strongest}
    weakest = {r.question_id for r in presence.weakest}
    assert not strongest & weakest
    assert all(float(r.score) > 35.3 for r in presence.strongest)
    assert all(float(r.score) < 35.3 for r in presence.weakest)


def test_blank_notes_are_left_out() -> None:
    assert report_case("community-hospital", notes="  \n ").view().notes is None


def test_organization_types_read_as_words() -> None:
    case = report_case(
        "community-hospital", OrganizationInfo("St. Jude", "childrens_hospital", 1, "TN")
    )

    assert case.view().organization_details == "Children\u2019s hospital · 1 licensed bed · TN"


def test_the_html_is_autoescaped_and_declares_its_metadata() -> None:
    case = report_case(
        "community-hospital",
        OrganizationInfo("A <b>bold</b> & Co", "community_hospital", 60, "MN"),
        notes="<script>alert(1)</script>",
    )
    html = render_html(case.view())

    assert "<b>bold</b>" not in html
    assert "<script>" not in html
    assert "A &lt;b&gt;bold&lt;/b&gt; &amp; Co" in html
    assert '<html lang="en-US">' in html
    assert "<title>A &lt;b&gt;bold&lt;/b&gt; &amp; Co: Social Media Maturity" in html
    assert '<meta name="author" content="Center for Social Media">' in html
    assert '<meta name="description" content="' in html
    # The only URL is the SVG namespace, which names and never fetches anything.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}


def test_a_dimension_page_defines_the_level_rather_than_describing_the_client() -> None:
    view = report_case("community-hospital").view()

    for dimension in view.dimensions:
        generic = DEFINITION.levels[dimension.level - 1].description
        assert dimension.level_description == generic
    assert view.overall_level_description == (DEFINITION.levels[view.overall_level - 1].description)


@pytest.mark.parametrize("name", ["community-hospital", "academic-medical-center"])
def test_no_internal_question_id_is_printed(name: str) -> None:
    case = report_case(name, targets={"security": 5}, budget=2000)
    held = [d for d in case.score.dimensions if d.level_by_score > d.level]
    html = render_html(case.view(include_narratives=True))
    text = re.sub(r"<[^>]+>", " ", html)

    assert held or case.roadmap.unreachable, "the case shows gate explanations"
    for question in DEFINITION.questions:
        assert re.search(rf"\b{question.id}\b", text) is None, question.id
