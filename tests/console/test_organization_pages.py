"""The console's organization pages: create, profile, invitations, history, settings with
their preview, and peers; each calls the service its REST route calls and scopes alike."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.invitations.models import Invitation
from app.organizations.models import Organization
from tests.conftest import example
from tests.console.conftest import Person, csrf_of, post_form

SignIn = Callable[[Person], TestClient]


@pytest.fixture
def org(make_organization: Callable[..., Organization]) -> Organization:
    return make_organization("Lakeside Community Hospital", 120)


@pytest.fixture
def consultant(make_user: Callable[..., Person], org: Organization) -> Person:
    return make_user("consultant", [org.id])


@pytest.fixture
def browser(signed_in_as: SignIn, consultant: Person) -> TestClient:
    return signed_in_as(consultant)


def page_of(org: Organization) -> str:
    return f"/console/organizations/{org.id}"


def post_to(
    browser: TestClient,
    org: Organization,
    action: str,
    data: dict[str, Any] | None = None,
    **options: Any,
) -> Response:
    """Post a form of the organization's page (``action`` below its path), with the CSRF
    token the page carries."""
    return post_form(browser, f"{page_of(org)}/{action}", data or {}, form=page_of(org), **options)


def submit(client: TestClient, headers: dict[str, str], org: Organization) -> dict[str, Any]:
    """A submitted assessment of the community-hospital example, through the API."""
    body = {**example("community-hospital"), "status": "submitted", "organization_id": str(org.id)}
    response = client.post("/v1/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def events(db: Session, action: str) -> list[AuditEvent]:
    """The successful events of an action."""
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == "success")
    return list(db.scalars(query))


def audited(db: Session, action: str, person: Person, org: Organization) -> AuditEvent:
    """The one successful event of ``action``, which names the person and the organization."""
    (event,) = events(db, action)
    assert event.user_id == person.user.id
    assert event.organization_id == org.id
    return event


SETTINGS = {
    "target-security": "4",
    "budget": "50000",
    "budget_scope": "center_fees",
    "staff_hours_per_month": "",
    "concurrent_actions": "3",
    "hourly_rate": "",
    "notes": "Board meets in March.",
}


# -- creating an organization -------------------------------------------------------------


def test_a_consultant_creates_an_organization_and_lands_on_its_page(
    browser: TestClient, consultant: Person, db: Session
) -> None:
    form = browser.get("/console/organizations/new")
    assert form.status_code == 200
    assert 'for="new-name"' in form.text
    assert 'for="new-licensed-beds"' in form.text
    response = post_form(
        browser,
        "/console/organizations/new",
        {
            "name": "  Pine Ridge Clinic ",
            "type": "clinic",
            "licensed_beds": "12",
            "state": "wi",
        },
        form="/console/organizations/new",
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    created = db.scalar(select(Organization).where(Organization.name == "Pine Ridge Clinic"))
    assert created is not None
    assert created.state == "WI"
    assert created.licensed_beds == 12
    assert response.headers["location"] == page_of(created)
    shown = browser.get(response.headers["location"])
    assert shown.status_code == 200
    assert "Pine Ridge Clinic" in shown.text
    assert "Clinic" in shown.text
    (event,) = events(db, "organization.create")
    assert event.actor_type == "user"
    assert event.user_id == consultant.user.id
    assert event.object_id == str(created.id)
    assert event.organization_id == created.id


def test_bad_fields_are_named_next_to_each_field_and_nothing_is_stored(
    browser: TestClient, db: Session
) -> None:
    before = db.scalar(select(func.count()).select_from(Organization))
    response = post_form(
        browser,
        "/console/organizations/new",
        {
            "name": "Harbor View",
            "type": "castle",
            "licensed_beds": "lots",
            "state": "ZZ",
        },
        form="/console/organizations/new",
    )
    assert response.status_code == 422
    text = response.text
    assert 'id="error-summary"' in text
    for field in ("type", "licensed-beds", "state"):
        assert f'id="new-{field}-error"' in text
        assert f'href="#new-{field}"' in text
    assert 'id="new-name-error"' not in text
    assert 'value="Harbor View"' in text
    assert 'value="lots"' in text
    assert "&#39;ZZ&#39; is not a two-letter US state" in text
    assert db.scalar(select(func.count()).select_from(Organization)) == before


def test_a_form_without_its_csrf_token_is_refused(browser: TestClient, org: Organization) -> None:
    response = browser.post(
        "/console/organizations/new",
        data={"name": "X", "type": "clinic", "licensed_beds": "1", "state": "MN"},
    )
    assert response.status_code == 403
    response = browser.post(f"{page_of(org)}/invitations", data={})
    assert response.status_code == 403
    response = browser.post(f"{page_of(org)}/roadmap-settings", data=SETTINGS)
    assert response.status_code == 403


def test_a_stranger_is_sent_to_sign_in(client: TestClient, org: Organization) -> None:
    response = client.get(page_of(org), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=")


# -- scope ---------------------------------------------------------------------------------


def test_another_consultants_organization_is_not_found(
    browser: TestClient, make_organization: Callable[..., Organization], db: Session
) -> None:
    other = make_organization("Someone Else's Hospital")
    token = csrf_of(browser, "/console/organizations/new")
    assert browser.get(page_of(other)).status_code == 404
    assert browser.get(f"{page_of(other)}/roadmap-preview").status_code == 404
    posted = {"csrf_token": token, **SETTINGS}
    assert browser.post(f"{page_of(other)}/roadmap-settings", data=posted).status_code == 404
    assert browser.post(f"{page_of(other)}/invitations", data=posted).status_code == 404
    assert browser.post(f"{page_of(other)}/profile", data=posted).status_code == 404
    assert browser.get(f"/console/organizations/{uuid.uuid4()}").status_code == 404
    db.refresh(other)
    assert other.roadmap_budget is None


def test_an_admin_sees_every_organization(
    signed_in_as: SignIn, make_user: Callable[..., Person], org: Organization
) -> None:
    admin = signed_in_as(make_user("admin"))
    assert admin.get(page_of(org)).status_code == 200


# -- profile -------------------------------------------------------------------------------


def test_the_profile_is_shown_and_changed(
    browser: TestClient, org: Organization, db: Session, consultant: Person
) -> None:
    shown = browser.get(page_of(org))
    assert "Lakeside Community Hospital" in shown.text
    assert "Community hospital" in shown.text
    response = post_to(
        browser,
        org,
        "profile",
        {
            "name": "Lakeside Regional",
            "type": "health_system",
            "licensed_beds": "340",
            "state": "MN",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.refresh(org)
    assert (org.name, org.type, org.licensed_beds) == ("Lakeside Regional", "health_system", 340)
    assert "The profile is saved" in browser.get(response.headers["location"]).text
    (event,) = events(db, "organization.update")
    assert event.user_id == consultant.user.id
    assert event.object_id == str(org.id)


def test_a_bad_profile_is_refused_with_the_field_named(
    browser: TestClient, org: Organization, db: Session
) -> None:
    response = post_to(
        browser,
        org,
        "profile",
        {
            "name": "",
            "type": "community_hospital",
            "licensed_beds": "-4",
            "state": "MN",
        },
    )
    assert response.status_code == 422
    assert 'id="profile-name-error"' in response.text
    assert 'id="profile-licensed-beds-error"' in response.text
    db.refresh(org)
    assert org.name == "Lakeside Community Hospital"
    assert org.licensed_beds == 120


# -- invitations ---------------------------------------------------------------------------


def test_an_invitation_link_is_shown_once_and_listed_with_its_status(
    browser: TestClient, org: Organization, db: Session, consultant: Person
) -> None:
    response = post_to(
        browser, org, "invitations", {"expires_in_days": "10"}, follow_redirects=False
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'value="(http://testserver/i/[^"]+)"', response.text)
    assert match, response.text
    link = match.group(1)
    (invitation,) = db.scalars(select(Invitation).where(Invitation.organization_id == org.id))
    assert (invitation.expires_at - invitation.created_at).days == 10
    event = audited(db, "invitation.create", consultant, org)
    assert event.object_id == str(invitation.id)
    assert link.rsplit("/", 1)[1] not in str(event.detail)

    later = browser.get(page_of(org))
    assert link not in later.text  # shown once
    assert "Pending" in later.text
    # The link works: the web form opens it.
    opened = browser.get(link.removeprefix("http://testserver"), follow_redirects=False)
    assert opened.status_code == 303


def test_a_link_is_built_as_the_api_builds_it(
    client: TestClient,
    signed_in_as: SignIn,
    consultant: Person,
    org: Organization,
    admin_headers: dict[str, str],
) -> None:
    api = client.post(f"/v1/organizations/{org.id}/invitations", json={}, headers=admin_headers)
    browser = signed_in_as(consultant)
    page = post_to(browser, org, "invitations")
    url = api.json()["url"]
    assert url.startswith("http://testserver/i/")
    assert re.search(r'value="http://testserver/i/[^"]+"', page.text)


def test_a_bad_lifetime_is_refused_and_nothing_is_stored(
    browser: TestClient, org: Organization, db: Session
) -> None:
    response = post_to(browser, org, "invitations", {"expires_in_days": "1000"})
    assert response.status_code == 422
    assert 'id="invite-expires-in-days-error"' in response.text
    assert 'value="1000"' in response.text
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0


def test_an_invitation_is_revoked(
    browser: TestClient, org: Organization, db: Session, consultant: Person
) -> None:
    post_to(browser, org, "invitations")
    invitation = db.scalars(select(Invitation)).one()
    token = csrf_of(browser, page_of(org))
    assert browser.post(f"/console/invitations/{invitation.id}/revoke", data={}).status_code == 403
    response = browser.post(
        f"/console/invitations/{invitation.id}/revoke",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.refresh(invitation)
    assert invitation.revoked_at is not None
    shown = browser.get(response.headers["location"])
    assert "Revoked" in shown.text
    assert "is revoked" in shown.text
    audited(db, "invitation.revoke", consultant, org)


def test_another_organizations_invitation_cannot_be_revoked(
    browser: TestClient,
    make_organization: Callable[..., Organization],
    client: TestClient,
    admin_headers: dict[str, str],
    db: Session,
) -> None:
    other = make_organization("Elsewhere")
    made = client.post(f"/v1/organizations/{other.id}/invitations", json={}, headers=admin_headers)
    response = browser.post(
        f"/console/invitations/{made.json()['id']}/revoke",
        data={"csrf_token": csrf_of(browser, "/console/organizations/new")},
    )
    assert response.status_code == 404
    assert db.get_one(Invitation, uuid.UUID(made.json()["id"])).revoked_at is None


def test_a_draft_in_progress_shows_its_progress_per_section(
    browser: TestClient, org: Organization, db: Session
) -> None:
    created = post_to(browser, org, "invitations")
    link = re.search(r'value="http://testserver(/i/[^"]+)"', created.text)
    assert link
    browser.get(link.group(1))  # opens the form: a session of the web form
    browser.get("/form")
    invitation = db.scalars(select(Invitation)).one()
    from app.invitations.service import start_draft
    from app.questionnaire.registry import QuestionnaireRegistry

    registry: QuestionnaireRegistry = browser.app.state.registry  # type: ignore[attr-defined]
    start_draft(db, registry, invitation)
    db.commit()
    shown = browser.get(page_of(org))
    assert "Started" in shown.text
    assert "questions answered per section" in shown.text
    assert re.search(r"0 of \d+", shown.text)


# -- history, preview, peers ---------------------------------------------------------------


def test_history_is_a_table_and_a_chart(
    browser: TestClient, client: TestClient, org: Organization, admin_headers: dict[str, str]
) -> None:
    empty = browser.get(page_of(org))
    assert "No submitted assessment yet" in empty.text
    assert "The organization has no submitted assessment" in empty.text  # peers say why
    submit(client, admin_headers, org)
    submit(client, admin_headers, org)
    shown = browser.get(page_of(org))
    assert "<svg" in shown.text
    assert 'role="img"' in shown.text
    assert "<title>" in shown.text
    assert "Submitted assessments, oldest first" in shown.text
    assert shown.text.count("hospital-social-media v") >= 2
    # Too few peers: the page says so, and shows no percentile.
    assert "No peer comparison" in shown.text
    assert "Where each score stands among peers" not in shown.text


def test_settings_are_saved_as_the_api_saves_them(
    browser: TestClient,
    client: TestClient,
    org: Organization,
    admin_headers: dict[str, str],
    db: Session,
    consultant: Person,
) -> None:
    response = post_to(browser, org, "roadmap-settings", SETTINGS, follow_redirects=False)
    assert response.status_code == 303
    api = client.get(f"/v1/organizations/{org.id}/roadmap-settings", headers=admin_headers)
    assert api.json() == {
        "targets": {"security": 4},
        "budget": 50000,
        "excluded_services": [],
        "notes": "Board meets in March.",
        "staff_hours_per_month": None,
        "concurrent_actions": 3,
        "hourly_rate": None,
        "budget_scope": "center_fees",
    }
    shown = browser.get(response.headers["location"])
    assert "The roadmap settings are saved" in shown.text
    assert 'value="50000"' in shown.text
    audited(db, "roadmap_settings.put", consultant, org)


def test_bad_settings_are_refused_naming_the_field(
    browser: TestClient, org: Organization, db: Session
) -> None:
    response = post_to(
        browser,
        org,
        "roadmap-settings",
        {**SETTINGS, "concurrent_actions": "99", "exclude": "no-such-service"},
    )
    assert response.status_code == 422
    assert 'id="settings-concurrent-actions-error"' in response.text
    assert 'value="99"' in response.text
    db.refresh(org)
    assert org.roadmap_budget is None
    assert org.roadmap_concurrent_actions is None


def test_an_unknown_service_is_refused_by_the_service(
    browser: TestClient, org: Organization, db: Session
) -> None:
    response = post_to(browser, org, "roadmap-settings", {**SETTINGS, "exclude": "nope"})
    assert response.status_code == 422
    assert "is not a service of any catalogue" in response.text
    db.refresh(org)
    assert org.roadmap_budget is None


def test_the_preview_plans_the_roadmap_without_saving(
    browser: TestClient,
    client: TestClient,
    org: Organization,
    admin_headers: dict[str, str],
    db: Session,
) -> None:
    submitted = submit(client, admin_headers, org)
    query = {**SETTINGS, "csrf_token": "ignored"}
    response = browser.get(f"{page_of(org)}/roadmap-preview", params=query)
    assert response.status_code == 200, response.text
    assert 'value="50000"' in response.text  # the form, still filled in
    assert "Levels now and at the end of the plan" in response.text
    # The same plan GET /v1/assessments/{id}/roadmap gives for the same options.
    api = client.get(
        f"/v1/assessments/{submitted['id']}/roadmap",
        params={"target": "security=4", "budget": "50000", "concurrent_actions": "3"},
        headers=admin_headers,
    ).json()
    money = f"${api['total_cost']:,}"
    assert f"<dt>Total cost</dt><dd>{money}</dd>" in response.text
    db.refresh(org)
    assert org.roadmap_budget is None  # nothing saved

    fragment = browser.get(
        f"{page_of(org)}/roadmap-preview", params=query, headers={"X-Console-Fragment": "1"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert f"<dd>{money}</dd>" in fragment.text


def test_a_bad_preview_value_is_a_422_naming_the_field(
    browser: TestClient, org: Organization
) -> None:
    response = browser.get(
        f"{page_of(org)}/roadmap-preview", params={**SETTINGS, "hourly_rate": "cheap"}
    )
    assert response.status_code == 422
    assert 'id="settings-hourly-rate-error"' in response.text
    assert "Hourly rate" in response.text
    fragment = browser.get(
        f"{page_of(org)}/roadmap-preview",
        params={**SETTINGS, "target-security": "9"},
        headers={"X-Console-Fragment": "1"},
    )
    assert fragment.status_code == 422
    assert "Target for security" in fragment.text


def test_a_preview_without_a_submitted_assessment_says_so(
    browser: TestClient, org: Organization
) -> None:
    response = browser.get(f"{page_of(org)}/roadmap-preview", params=SETTINGS)
    assert response.status_code == 200
    assert "no submitted assessment yet" in response.text


def test_peers_show_percentile_quarters_once_there_are_enough(
    browser: TestClient,
    client: TestClient,
    org: Organization,
    make_organization: Callable[..., Organization],
    admin_headers: dict[str, str],
) -> None:
    submit(client, admin_headers, org)
    for n in range(4):
        submit(client, admin_headers, make_organization(f"Peer Hospital {n}", 120))
    few = browser.get(page_of(org))
    assert "No peer comparison" in few.text
    assert "at least 5 other organizations" in few.text
    assert "Peer Hospital" not in few.text


def test_peers_with_enough_peers_are_ranked_by_quarter_never_named(
    browser: TestClient,
    client: TestClient,
    org: Organization,
    make_organization: Callable[..., Organization],
    admin_headers: dict[str, str],
) -> None:
    for n in range(5):
        submit(client, admin_headers, make_organization(f"Peer Hospital {n}", 120))
    submit(client, admin_headers, org)
    shown = browser.get(page_of(org))
    api = client.get(f"/v1/organizations/{org.id}/benchmarks", headers=admin_headers).json()
    assert api["available"], api
    assert "Where each score stands among peers" in shown.text
    for dimension in api["dimensions"]:
        assert dimension["percentile_band"]["label"] in shown.text
    assert "Peer Hospital" not in shown.text
