"""The portfolio service: levels and trends, scope, filters, sorting, paging, invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.errors import InvalidRequest
from app.invitations.models import Invitation
from app.invitations.service import create_invitation, invitation_status
from app.portfolio.schemas import PortfolioQuery
from app.portfolio.service import portfolio
from app.reports.inputs import PlanRequest, gather_inputs, plan
from tests.portfolio.conftest import day

KEY = b"k" * 32


def _rows(db, registry, who, **query):
    result = portfolio(db, registry, who, query=PortfolioQuery(limit=100, **query))
    return result, {row.name: row for row in result.rows}


def _levels(row):
    return {c.dimension_id: c.level for c in row.dimensions}


def _trends(row):
    return {c.dimension_id: c.trend for c in row.dimensions}


def test_levels_and_trends_follow_the_last_two_submitted_assessments(
    db, registry, principal, organization, assess
):
    me = principal()
    never, once, twice, thrice = (
        organization(n, by=me) for n in ("Never", "Once", "Twice", "Thrice")
    )
    assess(once, on=day(1))
    assess(twice, on=day(1))
    up = assess(twice, "academic-medical-center", on=day(3))
    assess(thrice, on=day(1))
    assess(thrice, "academic-medical-center", on=day(2))
    latest = assess(thrice, on=day(4))

    _, rows = _rows(db, registry, me)

    assert rows["Never"].dimensions == ()
    assert rows["Never"].latest_assessment_id is None
    assert rows["Never"].attention == ("never_assessed",)
    assert rows["Never"].next_step is None
    assert _levels(rows["Once"]) == {"presence": 2, "consistency": 1, "security": 2}
    assert set(_trends(rows["Once"]).values()) == {"new"}
    assert rows["Once"].previous_assessment_id is None
    assert _levels(rows["Twice"]) == {"presence": 4, "consistency": 3, "security": 4}
    assert set(_trends(rows["Twice"]).values()) == {"up"}
    assert rows["Twice"].latest_assessment_id == up.id
    assert [c.previous_level for c in rows["Twice"].dimensions] == [2, 1, 2]
    assert rows["Thrice"].latest_assessment_id == latest.id
    assert set(_trends(rows["Thrice"]).values()) == {"down"}
    assert rows["Thrice"].assessed_at == day(4)
    assert "level_down" in rows["Thrice"].attention
    assert [c.dimension_id for c in rows["Once"].dimensions] == [
        c.dimension_id for c in portfolio(db, registry, me, query=PortfolioQuery()).columns
    ]
    assert never.id == rows["Never"].organization_id


def test_drafts_never_count_as_current_levels(db, registry, principal, organization, assess):
    me = principal()
    drafted, submitted = organization("Drafted", by=me), organization("Submitted", by=me)
    assess(drafted, "academic-medical-center", status="draft")
    first = assess(submitted, on=day(1))
    assess(submitted, "academic-medical-center", status="draft")

    _, rows = _rows(db, registry, me)

    assert rows["Drafted"].latest_assessment_id is None
    assert rows["Drafted"].attention == ("never_assessed",)
    assert rows["Submitted"].latest_assessment_id == first.id
    assert _levels(rows["Submitted"]) == {"presence": 2, "consistency": 1, "security": 2}
    assert set(_trends(rows["Submitted"]).values()) == {"new"}


def test_the_next_step_is_the_first_action_of_the_roadmap_the_api_returns(
    db, registry, principal, organization, assess
):
    me = principal()
    org = organization("Planned", by=me)
    org.roadmap_targets = {"security": 4}
    latest = assess(org, on=day(2))

    _, rows = _rows(db, registry, me)

    roadmap = plan(gather_inputs(db, registry, latest), PlanRequest())
    phase = next(p for p in roadmap.phases if p.actions)
    step = rows["Planned"].next_step
    assert step is not None
    assert (step.action_id, step.title, step.phase_id) == (
        phase.actions[0].action_id,
        phase.actions[0].title,
        phase.phase_id,
    )
    assert (step.cost, step.start_month, step.currency) == (
        phase.actions[0].cost,
        phase.actions[0].start_month,
        roadmap.currency,
    )


def _first_action(db, registry, assessment):
    roadmap = plan(gather_inputs(db, registry, assessment), PlanRequest())
    return roadmap.actions[0] if roadmap.actions else None


def test_a_changed_setting_changes_the_next_step_at_once(
    db, registry, principal, organization, assess
):
    me = principal()
    org = organization("Planned", by=me)
    latest = assess(org, on=day(2))
    before = _rows(db, registry, me)[1]["Planned"].next_step
    first = _first_action(db, registry, latest)
    assert before is not None
    assert first is not None
    org.roadmap_excluded_services = sorted({line.service_id for line in first.services})
    db.flush()

    after = _rows(db, registry, me)[1]["Planned"].next_step

    now_first = _first_action(db, registry, latest)
    assert (after.action_id if after else None) == (now_first.action_id if now_first else None)
    assert after != before


def test_a_consultant_sees_what_it_created_and_was_granted_a_partner_only_grants(
    db, registry, principal, organization
):
    granted, foreign = organization("Granted"), organization("Foreign")
    consultant = principal("consultant", [granted.id])
    organization("Created", by=consultant)
    bystander = principal("consultant")
    partner = principal("partner", [granted.id])
    organization("Created by an admin", by=principal("admin"))

    assert set(_rows(db, registry, consultant)[1]) == {"Created", "Granted"}
    assert set(_rows(db, registry, bystander)[1]) == set()
    assert set(_rows(db, registry, partner)[1]) == {"Granted"}
    everything, rows = _rows(db, registry, principal("admin"))
    assert {"Created", "Granted", foreign.name, "Created by an admin"} <= set(rows)
    assert everything.total == len(rows)


def test_filters_by_name_type_and_attention(db, registry, principal, organization, assess):
    me = principal()
    organization("North Clinic", type="clinic", by=me)
    assess(organization("NORTHSIDE Medical Center", by=me), "academic-medical-center")
    organization("South 100% Hospital", by=me)
    organization("South 1000 Hospital", by=me)

    north = {"North Clinic", "NORTHSIDE Medical Center"}
    assert set(_rows(db, registry, me, q="north")[1]) == north
    assert set(_rows(db, registry, me, q="100%")[1]) == {"South 100% Hospital"}
    assert set(_rows(db, registry, me, q="north", types=("clinic",))[1]) == {"North Clinic"}
    assert set(_rows(db, registry, me, needs_attention=False)[1]) == {"NORTHSIDE Medical Center"}
    attention, rows = _rows(db, registry, me, needs_attention=True)
    assert "NORTHSIDE Medical Center" not in rows
    assert attention.total == attention.totals.needs_attention == 3


def test_sorts_by_name_updated_and_a_dimension_with_the_unassessed_last(
    db, registry, principal, organization, assess
):
    me = principal()
    assess(organization("Bravo", by=me), on=day(5))
    assess(organization("alpha", by=me), "academic-medical-center", on=day(2))
    organization("Charlie", by=me)

    def names(**query):
        return [r.name for r in portfolio(db, registry, me, query=PortfolioQuery(**query)).rows]

    assert names() == ["alpha", "Bravo", "Charlie"]
    assert names(order="desc") == ["Charlie", "Bravo", "alpha"]
    assert names(sort="updated") == ["alpha", "Bravo", "Charlie"]
    assert names(sort="updated", order="desc") == ["Bravo", "alpha", "Charlie"]
    assert names(sort="security") == ["Bravo", "alpha", "Charlie"]
    assert names(sort="security", order="desc") == ["alpha", "Bravo", "Charlie"]


def test_pages_hold_limit_rows_from_offset_and_the_total_counts_every_page(
    db, registry, principal, organization
):
    me = principal()
    for n in range(7):
        organization(f"Hospital {n}", by=me)

    pages = [
        portfolio(db, registry, me, query=PortfolioQuery(limit=3, offset=offset))
        for offset in (0, 3, 6, 9)
    ]

    assert [[r.name for r in p.rows] for p in pages] == [
        ["Hospital 0", "Hospital 1", "Hospital 2"],
        ["Hospital 3", "Hospital 4", "Hospital 5"],
        ["Hospital 6"],
        [],
    ]
    assert {p.total for p in pages} == {7}
    assert {p.totals.organizations for p in pages} == {7}


def test_an_unknown_sort_key_is_refused_naming_sort(db, registry, principal):
    with pytest.raises(InvalidRequest) as refused:
        portfolio(db, registry, principal(), query=PortfolioQuery(sort="beds"))

    assert refused.value.extra["errors"][0]["field"] == "sort"


def test_invitations_are_counted_by_the_status_the_invitation_service_gives_them(
    db, registry, principal, organization, assess
):
    me = principal()
    org = organization("Invited", by=me)
    issued = [create_invitation(db, registry, me, org, key=KEY).invitation for _ in range(6)]
    issued[1].revoked_at = utcnow()
    issued[2].expires_at = utcnow() - timedelta(days=1)
    issued[3].assessment_id = assess(org, status="draft").id
    issued[4].assessment_id = assess(org).id
    issued[5].assessment_id = assess(org, status="draft").id
    issued[5].expires_at = utcnow() - timedelta(days=1)
    db.flush()

    _, rows = _rows(db, registry, me)

    counts = rows["Invited"].invitations
    expected = {"pending": 0, "started": 0, "submitted": 0, "expired": 0, "revoked": 0}
    for invitation in db.scalars(select(Invitation).where(Invitation.organization_id == org.id)):
        expected[invitation_status(db, invitation).value] += 1
    assert counts.model_dump() == {**expected, "open": 2}
    assert expected == {"pending": 1, "started": 1, "submitted": 1, "expired": 2, "revoked": 1}


def test_totals_cover_the_filtered_set_not_only_the_page(
    db, registry, principal, organization, assess
):
    me = principal()
    assess(organization("A", by=me), on=day(1))
    org = organization("B", by=me)
    assess(org, on=day(1))
    assess(org, "academic-medical-center", on=day(2))
    organization("C", by=me)

    result = portfolio(db, registry, me, query=PortfolioQuery(limit=1))

    totals = result.totals
    assert (totals.organizations, totals.assessed, totals.never_assessed) == (3, 2, 1)
    security = next(d for d in totals.dimensions if d.dimension_id == "security")
    assert (security.assessed, security.levels) == (2, {2: 1, 4: 1})
    assert (security.up, security.down) == (1, 0)
    assert security.mean_level == 3.0
