"""The profile's staff hours a month: the organization's roadmap setting, from the form."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.organizations.models import Organization
from tests.web.conftest import Invited, csrf_of

SETTINGS = {
    "targets": {"security": 4},
    "budget": 40000,
    "excluded_services": [],
    "notes": "Start with the policy.",
    "staff_hours_per_month": None,
    "concurrent_actions": 3,
    "hourly_rate": 55,
    "budget_scope": "everything",
}


def _post_profile(visitor: TestClient, **fields: str) -> Any:
    data = {
        "csrf_token": csrf_of(visitor, "/form/profile"),
        "type": "community_hospital",
        "licensed_beds": "120",
        "action": "next",
        **fields,
    }
    return visitor.post("/form/profile", data=data, follow_redirects=False)


def _settings(client: TestClient, invited: Invited, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(
        f"/v1/organizations/{invited.organization.id}/roadmap-settings", headers=headers
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_the_staff_hours_are_stored_as_the_roadmap_setting_and_shown_on_revisit(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    put = visitor.put(
        f"/v1/organizations/{invited.organization.id}/roadmap-settings",
        json=SETTINGS,
        headers=admin_headers,
    )
    assert put.status_code == 200, put.text

    response = _post_profile(visitor, staff_hours_per_month="1,200")

    assert response.status_code == 303, response.text
    assert _settings(visitor, invited, admin_headers) == {
        **SETTINGS,
        "staff_hours_per_month": 1200,
    }
    page = visitor.get("/form/profile")
    assert page.context["values"]["staff_hours_per_month"] == "1200"  # type: ignore[attr-defined]
    assert 'name="staff_hours_per_month" value="1200"' in page.text

    cleared = _post_profile(visitor, staff_hours_per_month="")

    assert cleared.status_code == 303
    assert _settings(visitor, invited, admin_headers) == SETTINGS
    assert 'name="staff_hours_per_month" value=""' in visitor.get("/form/profile").text


def test_a_profile_without_the_field_keeps_the_default(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    response = _post_profile(visitor)

    assert response.status_code == 303
    assert _settings(visitor, invited, admin_headers)["staff_hours_per_month"] is None


@pytest.mark.parametrize("typed", ["0", "10001", "many", "-5", "12.5"])
def test_staff_hours_out_of_range_are_an_error_next_to_the_field_and_nothing_is_saved(
    visitor: TestClient, invited: Invited, db: Session, admin_headers: dict[str, str], typed: str
) -> None:
    response = _post_profile(visitor, staff_hours_per_month=typed, licensed_beds="25")

    assert response.status_code == 422
    context = response.context  # type: ignore[attr-defined]
    assert context["errors"] == {
        "staff_hours_per_month": "Enter the staff hours a month as a whole number from 1 to "
        "10,000, or leave it empty."
    }
    assert [target for target, _ in context["error_links"]] == ["staff-hours"]
    assert 'href="#staff-hours"' in response.text
    assert f'value="{typed}"' in response.text  # what was typed is kept
    db.expire_all()
    assert db.get_one(Organization, invited.organization.id).licensed_beds == 120
    assert _settings(visitor, invited, admin_headers)["staff_hours_per_month"] is None


def test_the_staff_hours_need_this_sessions_csrf_token(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    data = {
        "type": "community_hospital",
        "licensed_beds": "120",
        "staff_hours_per_month": "40",
        "action": "next",
    }
    for token in ({}, {"csrf_token": "nonsense"}):
        response = visitor.post("/form/profile", data={**data, **token}, follow_redirects=False)
        assert response.status_code == 403
    assert _settings(visitor, invited, admin_headers)["staff_hours_per_month"] is None


def test_a_browser_without_the_invitation_cannot_set_the_staff_hours(
    client: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        "/form/profile",
        data={"staff_hours_per_month": "40", "type": "clinic", "licensed_beds": "1"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert _settings(client, invited, admin_headers)["staff_hours_per_month"] is None
