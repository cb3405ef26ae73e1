"""Who may do what in the console: every route, every role, on its own organization and on
another one, with the REST API's rules (404 outside the scope, 403 for what the role may
not do, and a browser that is not signed in sent to sign in).

The organizations of a test:

- ``home``: created by the consultant-owner, granted to the consultant-granted;
- ``other``: created by the admin; no consultant is given it;
- ``elsewhere``: granted to the consultant-foreign, so that it sees something, never
  ``home`` or ``other``.

``home`` and ``other`` each hold two submitted assessments, an invitation and a queued
report job. Users sign in with a session made for the test (no password hashing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.audit.models import AuditEvent
from app.auth.models import ApiKeyGrant, Role
from app.auth.service import Principal, create_key
from app.console.security import SESSION_COOKIE, csrf_token
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.invitations.service import create_invitation
from app.jobs.service import queue_report
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest
from tests.conftest import example

ROLES = ("admin", "consultant-owner", "consultant-granted", "consultant-foreign", "anonymous")

Statuses = tuple[int, int, int, int, int]


def scoped(status: int) -> dict[str, Statuses]:
    """A route of one organization's objects: the admin, and the consultants of the
    organization named, get ``status``; any other consultant a 404; anonymous a 303."""
    return {"home": (status, status, status, 404, 303), "other": (status, 404, 404, 404, 303)}


# The specification: the status each role gets, by route and target. "home" or "other" is the
# organization the request names (or whose assessment, invitation or job it names); "-" when
# it names none. A 303 for "anonymous" is the redirect to the sign-in page.
# fmt: off
SPECIFICATION: dict[str, dict[str, Statuses]] = {
    # route / target                                 admin  owner  granted foreign anon
    "GET /console": {"-":                            (200,  200,   200,    200,    303)},
    "GET /console/account": {"-":                    (200,  200,   200,    200,    303)},
    "POST /console/account/sign-out-everywhere": {"-": (303, 303,  303,    303,    303)},
    "POST /console/sign-out": {"-":                  (303,  303,   303,    303,    303)},
    "GET /console/organizations/new": {"-":          (200,  200,   200,    200,    303)},
    "POST /console/organizations/new": {"-":         (303,  303,   303,    303,    303)},
    "GET /console/organizations/{organization_id}": scoped(200),
    "POST /console/organizations/{organization_id}/profile": scoped(303),
    "POST /console/organizations/{organization_id}/invitations": scoped(201),
    "POST /console/invitations/{invitation_id}/revoke": scoped(303),
    "POST /console/organizations/{organization_id}/roadmap-settings": scoped(303),
    "GET /console/organizations/{organization_id}/roadmap-preview": scoped(200),
    "GET /console/assessments/{assessment_id}": scoped(200),
    "GET /console/assessments/{assessment_id}/report.pdf": scoped(200),
    "GET /console/assessments/{assessment_id}/compare": scoped(200),
    "GET /console/reports": {"-":                    (200,  200,   200,    200,    303)},
    "GET /console/reports/progress.json": {"-":      (200,  200,   200,    200,    303)},
    # As POST /v1/reports/batch: an organization outside the scope is reported missing
    # (the page says so), never queued; test_a_batch_queues_nothing_outside_the_scope.
    "POST /console/reports": {
        "home":                                      (303,  303,   303,    303,    303),
        "other":                                     (303,  303,   303,    303,    303),
    },
    "GET /console/reports/{job_id}/report.pdf": scoped(409),
    "GET /console/exports/assessments.csv": scoped(200),
    "GET /console/exports/assessments.xlsx": scoped(200),
    "GET /console/admin": {"-":                      (200,  403,   403,    403,    303)},
    "GET /console/admin/audit": {"-":                (200,  403,   403,    403,    303)},
    "GET /console/admin/users/new": {"-":            (200,  403,   403,    403,    303)},
    "POST /console/admin/users": {"-":               (200,  403,   403,    403,    303)},
    "GET /console/admin/users/{user_id}": {"-":      (200,  403,   403,    403,    303)},
    "POST /console/admin/users/{user_id}/access": {"-": (303, 403, 403,    403,    303)},
    "POST /console/admin/users/{user_id}/disable": {"-": (303, 403, 403,   403,    303)},
    "POST /console/admin/users/{user_id}/enable": {"-": (303, 403, 403,    403,    303)},
    "POST /console/admin/users/{user_id}/reset": {"-": (200, 403,  403,    403,    303)},
    "GET /console/admin/keys/new": {"-":             (200,  403,   403,    403,    303)},
    "POST /console/admin/keys": {"-":                (200,  403,   403,    403,    303)},
    "GET /console/admin/keys/{key_id}": {"-":        (200,  403,   403,    403,    303)},
    "POST /console/admin/keys/{key_id}/revoke": {"-": (303, 403,   403,    403,    303)},
    "POST /console/admin/keys/{key_id}/grant": {"-": (303,  403,   403,    403,    303)},
}
# fmt: on

# The doors into the console, open to anyone by design (tested in test_sign_in.py and
# test_oidc_sign_in.py): what they answer does not depend on a role.
OPEN = {
    "GET /console/sign-in",
    "POST /console/sign-in",
    "POST /console/sign-in/oidc",
    "GET /console/sign-in/oidc/callback",
}


@dataclass
class Place:
    """An organization and the objects a request can name in it."""

    organization: Organization
    assessments: list[uuid.UUID]
    invitation_id: uuid.UUID
    job_id: uuid.UUID


@dataclass
class World:
    places: dict[str, Place]
    elsewhere: Organization
    sessions: dict[str, tuple[str, str]]  # role -> (cookie token, CSRF token)
    target_user_id: uuid.UUID
    target_key_id: uuid.UUID
    created: list[Any] = field(default_factory=list)


def _principal(db: Session, user_id: uuid.UUID) -> Principal:
    return accounts.principal_of(db, db.get_one(accounts.User, user_id))


@pytest.fixture
def world(db: Session, registry: QuestionnaireRegistry, app: FastAPI) -> World:
    key = app.state.settings.signing_key()
    users = {
        role: accounts.create_user(
            db,
            email=f"{role}@center.example.org",
            name=role.title(),
            role=Role.ADMIN if role == "admin" else Role.CONSULTANT,
        )
        for role in ROLES[:-1]
    }
    admin = _principal(db, users["admin"].id)
    home = Organization(
        name="Lakeside Community Hospital",
        type="community_hospital",
        licensed_beds=120,
        state="MN",
        created_by_key_id=users["consultant-owner"].principal_id,
    )
    other = Organization(
        name="Hillcrest Regional", type="community_hospital", licensed_beds=300, state="WI"
    )
    elsewhere = Organization(name="Elsewhere Clinic", type="clinic", licensed_beds=10, state="IA")
    db.add_all([home, other, elsewhere])
    db.flush()
    db.add(ApiKeyGrant(key_id=users["consultant-granted"].principal_id, organization_id=home.id))
    db.add(
        ApiKeyGrant(key_id=users["consultant-foreign"].principal_id, organization_id=elsewhere.id)
    )
    body = example("community-hospital")
    places = {}
    for name, organization in (("home", home), ("other", other)):
        made = [
            create_assessment(
                db,
                registry,
                admin,
                organization_id=organization.id,
                questionnaire_id=body["questionnaire"]["id"],
                version=body["questionnaire"].get("version"),
                status="submitted",
                items=[AnswerIn.model_validate(a) for a in body["answers"]],
            )
            for _ in range(2)
        ]
        invitation = create_invitation(db, registry, admin, organization, key=key).invitation
        job = queue_report(db, registry, made[0], PlanRequest(), requested_by=admin.key_id)
        places[name] = Place(organization, [a.id for a in made], invitation.id, job.id)
    target = accounts.create_user(
        db, email="target@center.example.org", name="Target", role=Role.CONSULTANT
    )
    target_key = create_key(db, Role.CONSULTANT, [], "target key").key
    sessions = {}
    for role, user in users.items():
        issued = accounts.start_session(db, user)
        sessions[role] = (issued.token, csrf_token(key, issued.session_id))
    db.commit()
    return World(places, elsewhere, sessions, target.id, target_key.id)


def _request(route: str, target: str, world: World) -> tuple[str, str, dict[str, Any]]:
    """The method, the URL and the form fields of a request at ``route`` aimed at ``target``."""
    method, template = route.split(" ", 1)
    place = world.places.get(target)
    values = {
        "user_id": world.target_user_id,
        "key_id": world.target_key_id,
        **(
            {
                "organization_id": place.organization.id,
                "assessment_id": place.assessments[0],
                "invitation_id": place.invitation_id,
                "job_id": place.job_id,
            }
            if place
            else {}
        ),
    }
    url = template.format(**values)
    fields: dict[str, Any] = {}
    organization = place.organization if place else None
    if route.endswith("/compare"):
        url += f"?other={place.assessments[1]}"  # type: ignore[union-attr]
    elif "/exports/" in route:
        url += f"?organization_id={organization.id}"  # type: ignore[union-attr]
    elif route == "POST /console/reports":
        fields = {"organization_id": str(organization.id)}  # type: ignore[union-attr]
    elif route in (
        "POST /console/organizations/new",
        "POST /console/organizations/{organization_id}/profile",
    ):
        fields = {
            "name": "Riverside Medical",
            "type": "community_hospital",
            "licensed_beds": "90",
            "state": "WI",
        }
    elif route == "POST /console/admin/users":
        fields = {"email": "new@center.example.org", "name": "New Person", "role": "consultant"}
    elif route == "POST /console/admin/users/{user_id}/access":
        fields = {"role": "consultant", "organizations": [str(world.elsewhere.id)]}
    elif route == "POST /console/admin/keys":
        fields = {
            "role": "partner",
            "name": "Partner system",
            "organizations": [str(world.elsewhere.id)],
        }
    elif route == "POST /console/admin/keys/{key_id}/grant":
        fields = {"organizations": [str(world.elsewhere.id)]}
    return method, url, fields


CASES = [
    pytest.param(route, target, id=f"{route} [{target}]")
    for route, targets in SPECIFICATION.items()
    for target in targets
]


@pytest.mark.parametrize(("route", "target"), CASES)
def test_each_role_gets_what_the_specification_says(
    app: FastAPI, world: World, db: Session, route: str, target: str
) -> None:
    expected = dict(zip(ROLES, SPECIFICATION[route][target], strict=True))
    got = {}
    for role in ROLES:
        with TestClient(app, raise_server_exceptions=False) as browser:
            method, url, fields = _request(route, target, world)
            if role != "anonymous":
                cookie, token = world.sessions[role]
                browser.cookies.set(
                    SESSION_COOKIE, cookie, domain="testserver.local", path="/console"
                )
                fields = {**fields, "csrf_token": token}
            if method == "GET":
                response = browser.get(url, follow_redirects=False)
            else:
                response = browser.post(url, data=fields, follow_redirects=False)
            got[role] = response.status_code
            if role == "anonymous":
                assert response.headers["location"].startswith("/console/sign-in")
    assert got == expected


def test_a_denial_outside_the_scope_is_in_the_trail_under_the_user(
    app: FastAPI, world: World, db: Session
) -> None:
    with TestClient(app) as browser:
        cookie, _ = world.sessions["consultant-foreign"]
        browser.cookies.set(SESSION_COOKIE, cookie, domain="testserver.local", path="/console")
        other = world.places["other"].organization.id
        assert browser.get(f"/console/organizations/{other}").status_code == 404
    event = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.outcome, event.actor_type, event.organization_id) == ("denied", "user", other)


def test_a_batch_queues_nothing_outside_the_scope(app: FastAPI, world: World, db: Session) -> None:
    from app.jobs.models import ReportJob

    before = len(db.scalars(select(ReportJob)).all())
    with TestClient(app) as browser:
        cookie, token = world.sessions["consultant-foreign"]
        browser.cookies.set(SESSION_COOKIE, cookie, domain="testserver.local", path="/console")
        other = world.places["other"].organization.id
        answer = browser.post(
            "/console/reports",
            data={"csrf_token": token, "organization_id": str(other)},
            follow_redirects=True,
        )
    assert answer.status_code == 200
    assert "missing=1" in str(answer.url)
    db.expire_all()
    assert len(db.scalars(select(ReportJob)).all()) == before


def test_every_console_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = {
        f"{method} {route.path}"
        for included in app.routes
        for route in getattr(getattr(included, "original_router", None), "routes", [])
        if getattr(route, "path", "").startswith("/console")
        for method in route.methods
    }
    assert routes == set(SPECIFICATION) | OPEN, "every console route needs its row"
