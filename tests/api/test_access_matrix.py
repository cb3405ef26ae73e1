"""Who may do what: every role on every route, on its own organization and on another one.

The organizations of a test:

- ``home``: created (POST) by the consultant-owner key, granted to the consultant-granted
  and partner-granted keys;
- ``other``: created by the admin; no consultant or partner key is given it;
- ``elsewhere``: granted to the consultant-foreign and partner-foreign keys, so that they
  see something, just never ``home`` or ``other``.

``home`` and ``other`` each hold a draft (complete, so it can be submitted), a submitted
assessment, a report job and a web-form invitation, made (by the admin) fresh for every test
that needs them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import ApiKey
from app.auth.service import KEY_PATTERN, grant, revoke_key
from tests.conftest import bearer, example
from tests.fhir.resources import EXPORTED_V1, questionnaire_response

ANSWERS = example("community-hospital")
NEW_ORGANIZATION = {
    "name": "Riverside Regional Medical Center",
    "type": "community_hospital",
    "licensed_beds": 310,
    "state": "WI",
}
ONE_ANSWER = {"answers": [ANSWERS["answers"][0]]}

ROLES = (
    "admin",
    "consultant-owner",
    "consultant-granted",
    "consultant-foreign",
    "partner-granted",
    "partner-foreign",
)

# The specification: the status each role gets, by route and target. The target is what the
# request aims at: "home" or "other" is the organization its path, query or body names;
# "home draft" is home's draft assessment, "home job" a report job of home's submitted one,
# "home invitation" a web-form invitation of home, and so on; "-" when it names none (then
# GET /v1/assessments is unfiltered).
# fmt: off
SPECIFICATION: dict[str, dict[str, tuple[int, int, int, int, int, int]]] = {
    # route / target          admin  c-owner  c-granted  c-foreign  p-granted  p-foreign
    "GET /v1/questionnaires": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /v1/questionnaires/{questionnaire_id}": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /v1/questionnaires/{questionnaire_id}/versions/{version}": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /healthz": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /readyz": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /metrics": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "POST /v1/organizations": {
        "-":                  (201,  201,     201,       201,       403,       403),
    },
    "GET /v1/organizations": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /v1/organizations/{organization_id}": {
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "PATCH /v1/organizations/{organization_id}": {
        "home":               (200,  200,     200,       404,       403,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "POST /v1/assessments": {
        "home":               (201,  201,     201,       404,       201,       404),
        "other":              (201,  404,     404,       404,       404,       404),
    },
    "POST /v1/assessments/batch": {
        "home":               (200,  200,     200,       200,       200,       200),
        "other":              (200,  200,     200,       200,       200,       200),
    },
    "GET /v1/audit": {
        "-":                  (200,  403,     403,       403,       403,       403),
    },
    "GET /v1/assessments": {
        "-":                  (200,  200,     200,       200,       200,       200),
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/assessments/{assessment_id}": {
        "home draft":         (200,  200,     200,       404,       200,       404),
        "home submitted":     (200,  200,     200,       404,       200,       404),
        "other draft":        (200,  404,     404,       404,       404,       404),
        "other submitted":    (200,  404,     404,       404,       404,       404),
    },
    "PATCH /v1/assessments/{assessment_id}": {
        "home draft":         (200,  200,     200,       404,       200,       404),
        "home submitted":     (409,  409,     409,       404,       409,       404),
        "other draft":        (200,  404,     404,       404,       404,       404),
        "other submitted":    (409,  404,     404,       404,       404,       404),
    },
    "POST /v1/assessments/{assessment_id}/submit": {
        "home draft":         (200,  200,     200,       404,       200,       404),
        "home submitted":     (409,  409,     409,       404,       409,       404),
        "other draft":        (200,  404,     404,       404,       404,       404),
        "other submitted":    (409,  404,     404,       404,       404,       404),
    },
    "GET /v1/assessments/{assessment_id}/roadmap": {
        "home draft":         (409,  409,     409,       404,       409,       404),
        "home submitted":     (200,  200,     200,       404,       200,       404),
        "other draft":        (409,  404,     404,       404,       404,       404),
        "other submitted":    (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/assessments/{assessment_id}/report.pdf": {
        "home draft":         (409,  409,     409,       404,       409,       404),
        "home submitted":     (200,  200,     200,       404,       200,       404),
        "other draft":        (409,  404,     404,       404,       404,       404),
        "other submitted":    (200,  404,     404,       404,       404,       404),
    },
    "POST /v1/assessments/{assessment_id}/reports": {
        "home draft":         (409,  409,     409,       404,       409,       404),
        "home submitted":     (202,  202,     202,       404,       202,       404),
        "other draft":        (409,  404,     404,       404,       404,       404),
        "other submitted":    (202,  404,     404,       404,       404,       404),
    },
    "GET /v1/reports/{job_id}": {
        "home job":           (200,  200,     200,       404,       200,       404),
        "other job":          (200,  404,     404,       404,       404,       404),
    },
    "POST /v1/organizations/{organization_id}/invitations": {
        "home":               (201,  201,     201,       404,       403,       404),
        "other":              (201,  404,     404,       404,       404,       404),
    },
    "GET /v1/invitations/{invitation_id}": {
        "home invitation":    (200,  200,     200,       404,       200,       404),
        "other invitation":   (200,  404,     404,       404,       404,       404),
    },
    "DELETE /v1/invitations/{invitation_id}": {
        "home invitation":    (204,  204,     204,       404,       403,       404),
        "other invitation":   (204,  404,     404,       404,       404,       404),
    },
    "GET /fhir/r4/metadata": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    # Searches never 404: out of scope matches nothing (tests/fhir/test_search.py).
    "GET /fhir/r4/Questionnaire": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /fhir/r4/QuestionnaireResponse": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /fhir/r4/Questionnaire/{questionnaire_id}": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "GET /fhir/r4/Questionnaire/{questionnaire_id}/_history/{version}": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
    "POST /fhir/r4/QuestionnaireResponse": {
        "home":               (201,  201,     201,       404,       201,       404),
        "other":              (201,  404,     404,       404,       404,       404),
    },
    "GET /fhir/r4/QuestionnaireResponse/{assessment_id}": {
        "home draft":         (200,  200,     200,       404,       200,       404),
        "home submitted":     (200,  200,     200,       404,       200,       404),
        "other draft":        (200,  404,     404,       404,       404,       404),
        "other submitted":    (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/organizations/{organization_id}/history": {
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    # Compared with the same organization's draft (same questionnaire).
    "GET /v1/assessments/{assessment_id}/compare/{other_id}": {
        "home submitted":     (200,  200,     200,       404,       200,       404),
        "other submitted":    (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/organizations/{organization_id}/roadmap-settings": {
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "PUT /v1/organizations/{organization_id}/roadmap-settings": {
        "home":               (200,  200,     200,       404,       403,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/organizations/{organization_id}/benchmarks": {
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    # No runner renders jobs in these tests, so a job's PDF is never ready: 409.
    "GET /v1/reports/{job_id}/pdf": {
        "home job":           (409,  409,     409,       404,       409,       404),
        "other job":          (409,  404,     404,       404,       404,       404),
    },
    # Batches are a consultant's tool: partners get 403. A listed organization out of scope
    # is an item error inside the 202, worded exactly as for one that does not exist.
    "POST /v1/reports/batch": {
        "-":                  (202,  202,     202,       202,       403,       403),
        "home":               (202,  202,     202,       202,       403,       403),
        "other":              (202,  202,     202,       202,       403,       403),
    },
    "GET /v1/reports": {
        "-":                  (200,  200,     200,       200,       200,       200),
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/exports/assessments.csv": {
        "-":                  (200,  200,     200,       200,       200,       200),
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    "GET /v1/exports/assessments.xlsx": {
        "-":                  (200,  200,     200,       200,       200,       200),
        "home":               (200,  200,     200,       404,       200,       404),
        "other":              (200,  404,     404,       404,       404,       404),
    },
    # Every key has a portfolio: the organizations it may see (see the scope test below).
    "GET /v1/portfolio": {
        "-":                  (200,  200,     200,       200,       200,       200),
    },
}
# fmt: on
EXPECTED = {
    (route, target): statuses
    for route, targets in SPECIFICATION.items()
    for target, statuses in targets.items()
}

# Routes whose target organization goes in the query (`?organization_id=`).
ORGANIZATION_FILTERED = {
    "GET /v1/assessments",
    "GET /v1/reports",
    "GET /v1/exports/assessments.csv",
    "GET /v1/exports/assessments.xlsx",
}
PUBLIC_ROUTES = {"GET /healthz", "GET /readyz", "GET /metrics", "GET /fhir/r4/metadata"}
# Aimed at home's objects (its draft where there is one), which the keys would otherwise reach.
AUTHENTICATED = [
    pytest.param(route, target, id=f"{route} -> {target}")
    for route, target in EXPECTED
    if target in ("-", "home", "home draft", "home job", "home invitation")
    and route not in PUBLIC_ROUTES
]


@dataclass
class World:
    """The keys and organizations of one test; other objects are made when first asked for."""

    client: TestClient
    keys: dict[str, str]
    organizations: dict[str, str]
    _assessments: dict[tuple[str, str], str] = field(default_factory=dict)
    _jobs: dict[str, str] = field(default_factory=dict)
    _invitations: dict[str, str] = field(default_factory=dict)

    def assessment(self, organization: str, status: str) -> str:
        if (organization, status) not in self._assessments:
            body = {
                **ANSWERS,
                "status": status,
                "organization_id": self.organizations[organization],
            }
            response = self.client.post(
                "/v1/assessments", json=body, headers=bearer(self.keys["admin"])
            )
            assert response.status_code == 201, response.text
            self._assessments[organization, status] = response.json()["id"]
        return self._assessments[organization, status]

    def job(self, organization: str) -> str:
        if organization not in self._jobs:
            assessment = self.assessment(organization, "submitted")
            response = self.client.post(
                f"/v1/assessments/{assessment}/reports", headers=bearer(self.keys["admin"])
            )
            assert response.status_code == 202, response.text
            self._jobs[organization] = response.json()["id"]
        return self._jobs[organization]

    def invitation(self, organization: str) -> str:
        if organization not in self._invitations:
            response = self.client.post(
                f"/v1/organizations/{self.organizations[organization]}/invitations",
                headers=bearer(self.keys["admin"]),
            )
            assert response.status_code == 201, response.text
            self._invitations[organization] = response.json()["id"]
        return self._invitations[organization]

    def request(self, route: str, target: str) -> tuple[str, str, dict[str, Any] | None]:
        """Method, URL and JSON body of a route, aimed at a target of the matrix."""
        method, path = route.split(" ")
        organization, _, status = target.partition(" ")
        org_id = self.organizations.get(organization, "")
        path = path.replace("{questionnaire_id}", "hospital-social-media")
        path = path.replace("{version}", "1").replace("{organization_id}", org_id)
        if "{assessment_id}" in path:
            path = path.replace("{assessment_id}", self.assessment(organization, status))
        if "{other_id}" in path:
            path = path.replace("{other_id}", self.assessment(organization, "draft"))
        if "{job_id}" in path:
            path = path.replace("{job_id}", self.job(organization))
        if "{invitation_id}" in path:
            path = path.replace("{invitation_id}", self.invitation(organization))
        if route in ORGANIZATION_FILTERED and org_id:
            path += f"?organization_id={org_id}"
        body: dict[str, Any] | None = {
            "POST /v1/organizations": NEW_ORGANIZATION,
            "PATCH /v1/organizations/{organization_id}": {"licensed_beds": 130},
            "POST /v1/assessments": {**ANSWERS, "organization_id": org_id},
            "POST /v1/assessments/batch": {"assessments": [{**ANSWERS, "organization_id": org_id}]},
            "PATCH /v1/assessments/{assessment_id}": ONE_ANSWER,
            "POST /fhir/r4/QuestionnaireResponse": questionnaire_response(
                EXPORTED_V1, org_id, ANSWERS["answers"]
            ),
            "POST /v1/reports/batch": {"organization_ids": [org_id]} if org_id else None,
            "PUT /v1/organizations/{organization_id}/roadmap-settings": {
                "targets": {"security": 4},
                "budget": 50_000,
                "notes": "Start with the policy.",
            },
        }.get(route)
        return method, path, body


@pytest.fixture
def world(client, db, make_key, make_organization) -> World:
    admin = make_key("admin")
    owner = make_key("consultant")
    home = client.post("/v1/organizations", json=NEW_ORGANIZATION, headers=bearer(owner))
    assert home.status_code == 201, home.text
    other = client.post("/v1/organizations", json=NEW_ORGANIZATION, headers=bearer(admin))
    home_id, other_id = uuid.UUID(home.json()["id"]), uuid.UUID(other.json()["id"])
    elsewhere = make_organization("Elsewhere Clinic").id
    keys = {
        "admin": admin,
        "consultant-owner": owner,
        "consultant-granted": make_key("consultant", [home_id]),
        "consultant-foreign": make_key("consultant", [elsewhere]),
        "partner-granted": make_key("partner", [home_id]),
        "partner-foreign": make_key("partner", [elsewhere]),
    }
    organizations = {"home": str(home_id), "other": str(other_id), "elsewhere": str(elsewhere)}
    return World(client, keys, organizations)


def _call(world: World, route: str, target: str, headers: dict[str, str]) -> Any:
    method, url, body = world.request(route, target)
    return world.client.request(method, url, json=body, headers=headers)


# FHIR routes answer errors as OperationOutcome; their issue codes, as native error codes.
FHIR_ISSUE_CODES = {
    "login": "unauthenticated",
    "forbidden": "forbidden",
    "not-found": "not_found",
    "conflict": "conflict",
}


def _error(response: Any) -> tuple[str, str]:
    """The error code and detail of a native error body or of an OperationOutcome."""
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        issue = body["issue"][0]
        return FHIR_ISSUE_CODES[issue["code"]], issue["diagnostics"]
    return body["error"], body["detail"]


CASES = [
    pytest.param(route, target, role, status, id=f"{role}: {route} -> {target}")
    for (route, target), statuses in EXPECTED.items()
    for role, status in zip(ROLES, statuses, strict=True)
]


@pytest.mark.parametrize(("route", "target", "role", "expected"), CASES)
def test_each_role_gets_exactly_the_specified_status(world, db, route, target, role, expected):
    response = _call(world, route, target, bearer(world.keys[role]))

    assert response.status_code == expected, response.text
    if expected >= 400:
        error = {403: "forbidden", 404: "not_found", 409: "conflict"}[expected]
        assert _error(response)[0] == error
    if expected in (403, 404):
        # Every 404 of the matrix hides an object that exists: the trail records a denial.
        assert _denials(db, world.keys[role], expected) == 1


def _denials(db: Session, token: str, status_code: int) -> int:
    match = KEY_PATTERN.match(token)
    assert match is not None
    db.expire_all()
    return len(
        db.scalars(
            select(AuditEvent.id)
            .join(ApiKey, ApiKey.id == AuditEvent.api_key_id)
            .where(
                ApiKey.prefix == match["prefix"],
                AuditEvent.outcome == "denied",
                AuditEvent.status_code == status_code,
            )
        ).all()
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("target", ["home", "other"])
def test_each_batch_item_gets_what_a_single_post_would(world, role, target):
    single = EXPECTED["POST /v1/assessments", target][ROLES.index(role)]

    response = _call(world, "POST /v1/assessments/batch", target, bearer(world.keys[role]))

    [item] = response.json()["items"]
    assert item["status"] == {201: "created", 404: "error"}[single]
    if single == 404:
        assert item["error"] == "not_found"


def test_every_operation_of_the_api_is_in_the_matrix(app):
    described = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }

    assert described == set(SPECIFICATION), "every operation needs its row in SPECIFICATION"


def test_foreign_objects_answer_exactly_like_missing_ones(world):
    """A 404 for something out of scope must not reveal that it exists."""
    consultant = bearer(world.keys["consultant-owner"])
    foreign = world.assessment("other", "submitted")
    missing = str(uuid.uuid4())

    seen_foreign = world.client.get(f"/v1/assessments/{foreign}", headers=consultant)
    seen_missing = world.client.get(f"/v1/assessments/{missing}", headers=consultant)

    assert seen_foreign.status_code == seen_missing.status_code == 404
    assert seen_foreign.json() == {
        **seen_missing.json(),
        "detail": seen_missing.json()["detail"].replace(missing, foreign),
    }


# --- Credentials that must not pass -------------------------------------------------------


def _unknown_token() -> str:
    return f"smm_{'q' * 12}_{'A' * 43}"


BAD_CREDENTIALS: dict[str, Callable[[World, Session], dict[str, str]]] = {
    "no header": lambda world, db: {},
    "empty bearer": lambda world, db: {"Authorization": "Bearer "},
    "not a key": lambda world, db: {"Authorization": "Bearer not-an-api-key"},
    "key without scheme": lambda world, db: {"Authorization": world.keys["admin"]},
    "basic scheme": lambda world, db: {"Authorization": f"Basic {world.keys['admin']}"},
    "truncated key": lambda world, db: bearer(world.keys["admin"][:-1]),
    "unknown key": lambda world, db: bearer(_unknown_token()),
    "wrong secret": lambda world, db: bearer(world.keys["admin"][:-3] + "xyz"),
    "revoked key": lambda world, db: _revoked(world, db),
}


def _revoked(world: World, db: Session) -> dict[str, str]:
    revoke_key(db, world.keys["consultant-owner"])
    db.commit()
    return bearer(world.keys["consultant-owner"])


def test_the_bad_credentials_are_well_formed_where_they_claim_to_be():
    assert KEY_PATTERN.match(_unknown_token())


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS)
@pytest.mark.parametrize(("route", "target"), AUTHENTICATED)
def test_bad_credentials_get_401_on_every_authenticated_route(
    world, db, route, target, credentials
):
    method, url, body = world.request(route, target)
    headers = BAD_CREDENTIALS[credentials](world, db)

    response = world.client.request(method, url, json=body, headers=headers)

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    code, detail = _error(response)
    assert code == "unauthenticated"
    assert detail


@pytest.mark.parametrize("route", sorted(PUBLIC_ROUTES))
def test_probes_need_no_key(client, route):
    response = client.get(route.split(" ")[1])

    assert response.status_code == 200
    if route == "GET /metrics":  # Prometheus text, open like the probes (no SMM_METRICS_TOKEN)
        assert "# TYPE smm_report_jobs gauge" in response.text
    elif route == "GET /fhir/r4/metadata":  # FHIR clients read it before they authenticate
        assert response.json()["resourceType"] == "CapabilityStatement"
    else:
        assert response.json()["status"] == "ok"


def test_a_revoked_key_that_worked_a_moment_ago_gets_401(client, db, make_key):
    token = make_key("admin")
    assert client.get("/v1/organizations", headers=bearer(token)).status_code == 200

    revoke_key(db, token)
    db.commit()
    response = client.get("/v1/organizations", headers=bearer(token))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthenticated"
    assert "revoked" in response.json()["detail"]


# --- Keys record their use ----------------------------------------------------------------


def _last_used(db: Session, token: str) -> datetime | None:
    match = KEY_PATTERN.match(token)
    assert match is not None
    db.expire_all()
    return db.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == match["prefix"]))


def test_a_key_records_when_it_was_last_used(client, db, make_key):
    used, unused = make_key("consultant"), make_key("consultant")
    assert _last_used(db, used) is None

    before = datetime.now(UTC)
    client.get("/v1/organizations", headers=bearer(used))

    last_used = _last_used(db, used)
    assert last_used is not None
    assert before - timedelta(seconds=1) <= last_used <= datetime.now(UTC)
    assert _last_used(db, unused) is None


def test_a_key_counts_as_used_even_when_the_request_fails(client, db, make_key):
    token = make_key("partner")

    response = client.get(f"/v1/organizations/{uuid.uuid4()}", headers=bearer(token))

    assert response.status_code == 404
    assert _last_used(db, token) is not None


def test_a_rejected_key_is_not_recorded_as_used(client, db, make_key):
    token = make_key("admin")
    revoke_key(db, token)
    db.commit()

    assert client.get("/v1/organizations", headers=bearer(token)).status_code == 401
    assert _last_used(db, token) is None


# --- Lists hold only what the key may see -------------------------------------------------


def _organization_ids(client: TestClient, token: str) -> tuple[set[str], int]:
    page = client.get("/v1/organizations", params={"limit": 200}, headers=bearer(token)).json()
    return {item["id"] for item in page["items"]}, page["total"]


def test_a_consultant_lists_exactly_its_own_and_its_granted_organizations(
    client, db, make_key, make_organization
):
    consultant = make_key("consultant")
    created = client.post("/v1/organizations", json=NEW_ORGANIZATION, headers=bearer(consultant))
    granted, _ = make_organization("Granted Hospital"), make_organization("Foreign Hospital")
    grant(db, consultant, [granted.id])
    db.commit()

    ids, total = _organization_ids(client, consultant)

    assert ids == {created.json()["id"], str(granted.id)}
    assert total == 2


def test_a_partner_lists_exactly_its_granted_organizations(client, make_key, make_organization):
    granted = make_organization("Granted Hospital")
    make_organization("Foreign Hospital")
    partner = make_key("partner", [granted.id])

    assert _organization_ids(client, partner) == ({str(granted.id)}, 1)


def test_an_admin_lists_every_organization(client, make_key, make_organization):
    created = {str(make_organization(f"Hospital {n}").id) for n in range(3)}

    ids, total = _organization_ids(client, make_key("admin"))

    assert created <= ids
    assert total == len(ids)


# What each role's portfolio holds, of home, other and elsewhere (admin: every one).
PORTFOLIO_SCOPE = {
    "admin": {"home", "other", "elsewhere"},
    "consultant-owner": {"home"},
    "consultant-granted": {"home"},
    "consultant-foreign": {"elsewhere"},
    "partner-granted": {"home"},
    "partner-foreign": {"elsewhere"},
}


@pytest.mark.parametrize("role", ROLES)
def test_a_portfolio_holds_exactly_the_organizations_the_key_may_see(world, role):
    world.assessment("home", "submitted")
    world.assessment("other", "submitted")
    world.invitation("home")
    world.invitation("other")

    page = world.client.get(
        "/v1/portfolio", params={"limit": 100}, headers=bearer(world.keys[role])
    ).json()

    mine = {world.organizations[o] for o in PORTFOLIO_SCOPE[role]}
    ids = {row["organization_id"] for row in page["rows"]}
    if role == "admin":
        assert mine <= ids
        assert page["total"] == len(ids)
    else:
        assert ids == mine
        assert page["total"] == len(mine)
        assert page["totals"]["invitations"]["pending"] == ("home" in PORTFOLIO_SCOPE[role])


@pytest.mark.parametrize("role", ROLES[1:])
def test_unfiltered_assessment_lists_hold_no_foreign_assessment(world, role):
    for organization in ("home", "other"):
        for status in ("draft", "submitted"):
            world.assessment(organization, status)
    visible = {"home"} if role.endswith(("owner", "-granted")) else set()
    visible_ids = {world.organizations[o] for o in visible}

    page = world.client.get(
        "/v1/assessments", params={"limit": 200}, headers=bearer(world.keys[role])
    ).json()

    assert {item["organization_id"] for item in page["items"]} == visible_ids
    assert page["total"] == len(page["items"]) == 2 * len(visible)


def test_the_admin_assessment_list_holds_every_organization(world):
    for organization in ("home", "other"):
        world.assessment(organization, "draft")

    page = world.client.get(
        "/v1/assessments", params={"limit": 200}, headers=bearer(world.keys["admin"])
    ).json()

    assert {world.organizations["home"], world.organizations["other"]} <= {
        item["organization_id"] for item in page["items"]
    }


@pytest.mark.parametrize("organization", ["other", "missing"])
def test_filtering_assessments_by_an_organization_out_of_scope_is_404(world, organization):
    target = world.organizations.get(organization, str(uuid.uuid4()))
    world.assessment("other", "submitted")

    response = world.client.get(
        "/v1/assessments",
        params={"organization_id": target},
        headers=bearer(world.keys["consultant-owner"]),
    )

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
