"""Roadmap settings stored on an organization, and used by every roadmap unless overridden."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from app.intake.models import Assessment
from app.jobs.models import ReportFile
from app.reports import inputs as delivery
from app.reports.inputs import PlanRequest
from tests.conftest import bearer

SETTINGS = {
    "targets": {"security": 4},
    "budget": 90_000,
    "excluded_services": ["annual_conference"],
    "notes": "Start with account ownership.",
    "staff_hours_per_month": 24,
    "concurrent_actions": 2,
    "hourly_rate": 55,
    "budget_scope": "everything",
}


def _url(org) -> str:
    return f"/v1/organizations/{org.id}/roadmap-settings"


def test_a_new_organization_has_empty_settings(client, admin_headers, make_organization):
    org = make_organization()

    response = client.get(_url(org), headers=admin_headers)

    assert response.status_code == 200
    assert response.json() == {
        "targets": {},
        "budget": None,
        "excluded_services": [],
        "notes": None,
        "staff_hours_per_month": None,
        "concurrent_actions": None,
        "hourly_rate": None,
        "budget_scope": "center_fees",
    }


def test_put_stores_the_settings_and_get_returns_them(client, admin_headers, make_organization):
    org = make_organization()

    put = client.put(_url(org), json=SETTINGS, headers=admin_headers)

    assert put.status_code == 200, put.text
    assert put.json() == SETTINGS
    assert client.get(_url(org), headers=admin_headers).json() == SETTINGS


def test_put_replaces_everything_a_field_left_out_is_cleared(
    client, admin_headers, make_organization
):
    org = make_organization()
    client.put(_url(org), json=SETTINGS, headers=admin_headers)

    response = client.put(_url(org), json={"budget": 1000}, headers=admin_headers)

    assert response.json() == {
        "targets": {},
        "budget": 1000,
        "excluded_services": [],
        "notes": None,
        "staff_hours_per_month": None,
        "concurrent_actions": None,
        "hourly_rate": None,
        "budget_scope": "center_fees",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"targets": {"marketing": 3}}, "targets.marketing"),
        ({"targets": {"security": 6}}, "targets.security"),
        ({"targets": {"security": 0}}, "targets.security"),
        ({"targets": {"security": "4"}}, "targets.security"),
        ({"budget": -1}, "budget"),
        ({"excluded_services": ["annual_conference", "yoga_retreat"]}, "excluded_services[1]"),
        ({"notes": "x" * 5001}, "notes"),
        ({"staff_hours_per_month": 0}, "staff_hours_per_month"),
        ({"concurrent_actions": 21}, "concurrent_actions"),
        ({"hourly_rate": -1}, "hourly_rate"),
        ({"budget_scope": "some"}, "budget_scope"),
        ({"notes": "nul \u0000 byte"}, "notes"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_settings_are_422_naming_the_field_and_change_nothing(
    client, admin_headers, make_organization, body, field
):
    org = make_organization()
    client.put(_url(org), json=SETTINGS, headers=admin_headers)

    response = client.put(_url(org), json={**SETTINGS, **body}, headers=admin_headers)

    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get(_url(org), headers=admin_headers).json() == SETTINGS


def test_a_partner_may_read_the_settings_but_not_change_them(
    client, admin_headers, make_key, make_organization
):
    org = make_organization()
    client.put(_url(org), json=SETTINGS, headers=admin_headers)
    partner = bearer(make_key("partner", [org.id]))

    assert client.get(_url(org), headers=partner).json() == SETTINGS
    response = client.put(_url(org), json={"budget": 1}, headers=partner)

    assert response.status_code == 403
    assert client.get(_url(org), headers=admin_headers).json() == SETTINGS


@pytest.fixture
def lakeside(make_organization, submit):
    org = make_organization("Lakeside Community Hospital", beds=60)
    return org, submit(org)


def test_the_roadmap_uses_the_stored_settings(client, admin_headers, lakeside):
    org, assessment = lakeside
    client.put(_url(org), json=SETTINGS, headers=admin_headers)

    roadmap = client.get(f"/v1/assessments/{assessment['id']}/roadmap", headers=admin_headers)

    assert roadmap.status_code == 200, roadmap.text
    body = roadmap.json()
    assert body["targets"] == {"presence": 3, "consistency": 2, "security": 4}
    assert body["budget"] == 90_000
    assert body["excluded_services"] == ["annual_conference"]
    assert "annual_conference" not in {s["service_id"] for s in body["services"]}


def test_stored_capacity_and_rate_reach_the_plan_and_the_query_overrides_them(
    client, admin_headers, lakeside
):
    org, assessment = lakeside
    client.put(_url(org), json=SETTINGS, headers=admin_headers)
    url = f"/v1/assessments/{assessment['id']}/roadmap"

    stored = client.get(url, headers=admin_headers).json()
    asked = client.get(
        url, params={"concurrent_actions": 1, "hourly_rate": 40}, headers=admin_headers
    ).json()

    assert stored["budget_scope"] == "everything"
    assert stored["capacity"]["concurrent_actions"] == 2
    assert stored["capacity"]["hourly_rate"] == 55
    assert stored["costs"]["staff_cost"] is not None
    assert asked["capacity"]["concurrent_actions"] == 1
    assert asked["capacity"]["hourly_rate"] == 40
    assert asked["capacity"]["source"] == "set"


def test_query_parameters_override_the_settings_field_by_field(client, admin_headers, lakeside):
    org, assessment = lakeside
    client.put(
        _url(org),
        json={**SETTINGS, "targets": {"security": 4, "presence": 2}},
        headers=admin_headers,
    )

    roadmap = client.get(
        f"/v1/assessments/{assessment['id']}/roadmap",
        params={"target": "presence=4", "budget": 500_000},
        headers=admin_headers,
    ).json()

    # presence from the query, security from the settings, consistency by default
    assert roadmap["targets"] == {"presence": 4, "consistency": 2, "security": 4}
    assert roadmap["budget"] == 500_000
    assert roadmap["excluded_services"] == ["annual_conference"]


def test_the_report_cache_key_changes_with_the_settings(
    client, admin_headers, db, registry, lakeside
):
    org, assessment = lakeside
    row = db.get_one(Assessment, uuid.UUID(assessment["id"]))

    def key() -> str:
        db.expire_all()
        inputs = delivery.gather_inputs(db, registry, row)
        return delivery.cache_key(inputs, PlanRequest())

    before = key()
    client.put(_url(org), json={"targets": {"security": 4}}, headers=admin_headers)
    with_target = key()
    client.put(
        _url(org), json={"targets": {"security": 4}, "notes": "A note"}, headers=admin_headers
    )
    with_notes = key()

    assert len({before, with_target, with_notes}) == 3


def test_report_pdf_is_rendered_again_after_the_settings_change(
    client, admin_headers, db, lakeside
):
    org, assessment = lakeside
    url = f"/v1/assessments/{assessment['id']}/report.pdf"

    def stored() -> int:
        return db.scalar(select(func.count()).select_from(ReportFile)) or 0

    first = client.get(url, headers=admin_headers)
    count = stored()
    assert client.get(url, headers=admin_headers).content == first.content
    assert stored() == count
    client.put(_url(org), json={"notes": "New notes for the board."}, headers=admin_headers)

    second = client.get(url, headers=admin_headers)

    assert second.status_code == 200
    assert second.content != first.content
    assert stored() == count + 1


def test_settings_for_ids_a_version_lacks_are_left_out_not_fatal(registry, make_organization):
    loaded = registry.get("hospital-social-media", 1)
    assert loaded.catalogue is not None
    org = make_organization()
    org.roadmap_targets = {"security": 4, "retired_dimension": 3}
    org.roadmap_excluded_services = ["annual_conference", "retired_service"]
    org.roadmap_budget = 10

    request = delivery.stored_settings(org, loaded.definition, loaded.catalogue)

    assert request == PlanRequest({"security": 4}, 10, ("annual_conference",))


def test_request_options_override_settings_field_by_field():
    stored = PlanRequest({"security": 4, "presence": 2}, 5000, ("annual_conference",))

    assert PlanRequest().over(stored) == stored
    assert PlanRequest({"presence": 3}, None, ()).over(stored) == PlanRequest(
        {"security": 4, "presence": 3}, 5000, ("annual_conference",)
    )
    assert PlanRequest({}, 0, ("governance_templates",)).over(stored) == PlanRequest(
        {"security": 4, "presence": 2}, 0, ("governance_templates",)
    )
