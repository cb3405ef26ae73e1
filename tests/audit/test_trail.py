"""The audit trail records writes, downloads, sign-ins and refusals, with the right fields."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.models import ApiKey
from app.auth.service import KEY_PATTERN
from tests.conftest import bearer, example
from tests.web.conftest import csrf_of

ORGANIZATION = {
    "name": "Riverside Regional Medical Center",
    "type": "community_hospital",
    "licensed_beds": 310,
    "state": "WI",
}


def _events(db: Session, **where: Any) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.scalars(query))


def _key_id(db: Session, token: str) -> uuid.UUID:
    match = KEY_PATTERN.match(token)
    assert match is not None
    key_id = db.scalar(select(ApiKey.id).where(ApiKey.prefix == match["prefix"]))
    assert key_id is not None
    return key_id


def test_a_write_is_recorded_with_actor_object_organization_ip_and_status(client, db, make_key):
    token = make_key("consultant")
    before = datetime.now(UTC)

    created = client.post("/v1/organizations", json=ORGANIZATION, headers=bearer(token))

    [event] = _events(db, action="organization.create")
    assert event.actor_type == "api_key"
    assert event.api_key_id == _key_id(db, token)
    assert event.object_type == "organization"
    assert event.object_id == created.json()["id"]
    assert event.organization_id == uuid.UUID(created.json()["id"])
    assert event.outcome == "success"
    assert event.status_code == 201
    assert event.ip == "testclient"
    assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)
    assert event.detail == {"method": "POST", "route": "/v1/organizations"}


def test_an_assessment_write_names_its_organization(client, db, admin_headers, make_organization):
    organization = make_organization()
    body = {
        **example("community-hospital"),
        "organization_id": str(organization.id),
        "status": "draft",
    }

    created = client.post("/v1/assessments", json=body, headers=admin_headers).json()
    client.patch(f"/v1/assessments/{created['id']}", json={"answers": []}, headers=admin_headers)
    client.post(f"/v1/assessments/{created['id']}/submit", headers=admin_headers)
    refused = client.post(f"/v1/assessments/{created['id']}/submit", headers=admin_headers)

    [create] = _events(db, action="assessment.create")
    [change] = _events(db, action="assessment.update")
    submitted, conflict = _events(db, action="assessment.submit")
    assert refused.status_code == 409
    assert (create.object_type, create.object_id) == ("assessment", created["id"])
    assert (change.object_type, change.object_id) == ("assessment", created["id"])
    assert (conflict.object_type, conflict.object_id) == ("assessment", created["id"])
    assert (submitted.outcome, conflict.outcome, conflict.status_code) == ("success", "failed", 409)
    for event in (create, change, submitted, conflict):
        assert event.organization_id == organization.id


def test_a_failed_write_is_recorded_as_failed_and_stores_nothing_else(
    client, db, admin_headers, make_organization
):
    organization = make_organization()
    body = {
        **example("community-hospital"),
        "organization_id": str(organization.id),
        "answers": [{"question_id": "no-such-question", "value": 1}],
    }

    response = client.post("/v1/assessments", json=body, headers=admin_headers)

    assert response.status_code == 422
    [event] = _events(db, action="assessment.create")
    assert (event.outcome, event.status_code) == ("failed", 422)
    assert event.organization_id == organization.id


def test_a_batch_is_one_event_with_the_ids_it_created(client, db, admin_headers, make_organization):
    organization = make_organization()
    good = {**example("community-hospital"), "organization_id": str(organization.id)}
    bad = {**good, "questionnaire": {"id": "no-such-questionnaire"}}

    result = client.post(
        "/v1/assessments/batch", json={"assessments": [good, bad]}, headers=admin_headers
    ).json()

    [event] = _events(db, action="assessment_batch.create")
    assert event.outcome == "success"
    assert event.detail is not None
    assert event.detail["created"] == 1
    assert event.detail["failed"] == 1
    assert event.detail["assessment_ids"] == [result["items"][0]["assessment"]["id"]]


def test_a_pdf_download_is_recorded(client, db, admin_headers, make_organization):
    organization = make_organization()
    body = {
        **example("community-hospital"),
        "organization_id": str(organization.id),
        "status": "submitted",
    }
    assessment = client.post("/v1/assessments", json=body, headers=admin_headers).json()

    response = client.get(f"/v1/assessments/{assessment['id']}/report.pdf", headers=admin_headers)

    assert response.status_code == 200
    [event] = _events(db, action="report_pdf.download")
    assert event.outcome == "success"
    assert (event.object_type, event.object_id) == ("assessment", assessment["id"])
    assert event.organization_id == organization.id


def test_reads_that_are_not_downloads_are_not_recorded(client, db, make_key, make_organization):
    token = make_key("admin")
    client.get("/v1/organizations", headers=bearer(token))  # the sign-in

    client.get("/v1/organizations", headers=bearer(token))
    client.get(f"/v1/organizations/{make_organization().id}", headers=bearer(token))

    assert [e.action for e in _events(db, api_key_id=_key_id(db, token))] == ["auth.key"]


def test_a_keys_first_use_and_first_use_after_30_minutes_are_sign_ins(client, db, make_key):
    token = make_key("partner")
    key_id = _key_id(db, token)

    for _ in range(3):
        client.get("/v1/organizations", headers=bearer(token))
    first = _events(db, action="auth.key", api_key_id=key_id)
    db.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .values(last_used_at=datetime.now(UTC) - timedelta(minutes=31))
    )
    db.commit()
    client.get("/v1/organizations", headers=bearer(token))

    assert len(first) == 1
    assert (first[0].object_type, first[0].object_id) == ("api_key", str(key_id))
    assert len(_events(db, action="auth.key", api_key_id=key_id)) == 2


def test_a_request_without_a_valid_key_is_a_denial_with_its_reason(client, db, make_key):
    client.post("/v1/organizations", json=ORGANIZATION)
    client.get("/v1/organizations", headers=bearer(f"smm_{'q' * 12}_{'A' * 43}"))

    denied = _events(db, outcome="denied")
    assert [(e.action, e.actor_type, e.status_code) for e in denied] == [
        ("organization.create", "anonymous", 401),
        ("organizations.list", "anonymous", 401),
    ]
    assert denied[1].detail is not None
    assert denied[1].detail["reason"] == "This API key is not valid."


def test_a_role_that_may_not_write_is_a_denial(client, db, make_key):
    token = make_key("partner")

    assert (
        client.post("/v1/organizations", json=ORGANIZATION, headers=bearer(token)).status_code
        == 403
    )

    [event] = _events(db, action="organization.create")
    assert (event.outcome, event.status_code, event.api_key_id) == (
        "denied",
        403,
        _key_id(db, token),
    )


def test_an_object_outside_the_scope_is_a_denial_but_a_missing_one_is_not(
    client, db, make_key, make_organization
):
    foreign = make_organization("Foreign")
    token = make_key("consultant")

    assert client.get(f"/v1/organizations/{foreign.id}", headers=bearer(token)).status_code == 404
    assert client.get(f"/v1/organizations/{uuid.uuid4()}", headers=bearer(token)).status_code == 404

    [event] = _events(db, outcome="denied")
    assert (event.action, event.status_code) == ("organization.get", 404)
    assert (event.object_type, event.object_id) == ("organization", str(foreign.id))
    assert event.organization_id == foreign.id


def test_writing_into_an_organization_outside_the_scope_is_a_denial(
    client, db, make_key, make_organization
):
    foreign = make_organization("Foreign")
    body = {**example("community-hospital"), "organization_id": str(foreign.id)}

    response = client.post("/v1/assessments", json=body, headers=bearer(make_key("partner")))

    assert response.status_code == 404
    [event] = _events(db, action="assessment.create")
    assert event.outcome == "denied"
    assert event.organization_id == foreign.id


def test_no_secret_reaches_the_trail(client, db, make_key, make_organization, invite):
    token = make_key("admin")
    invitation = invite(make_organization())
    client.post("/v1/organizations", json=ORGANIZATION, headers=bearer(token))
    client.get(invitation.path, follow_redirects=False)
    client.get("/i/" + invitation.token[:-2] + "zz", follow_redirects=False)

    stored = " ".join(
        str([getattr(e, c.key) for c in AuditEvent.__table__.columns]) for e in _events(db)
    )
    secret = KEY_PATTERN.match(token)["secret"]  # type: ignore[index]
    assert secret not in stored
    assert invitation.token not in stored
    assert invitation.token[:-2] not in stored
    assert ORGANIZATION["name"] not in stored  # no request bodies


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(client, db, make_key):
    client.get("/v1/organizations", headers={**bearer(make_key()), "X-Forwarded-For": "6.6.6.6"})

    [event] = _events(db, action="auth.key")
    assert event.ip == "testclient"


# --- The web form ----------------------------------------------------------------------


def test_opening_an_invitation_link_is_a_sign_in_by_that_invitation(client, db, invited):
    client.get(invited.path, follow_redirects=False)
    client.get("/i/made-up-token", follow_redirects=False)

    signed_in, refused = _events(db, action="auth.invitation")
    assert signed_in.outcome == "success"
    assert signed_in.actor_type == "invitation"
    assert str(signed_in.invitation_id) == invited.invitation["id"]
    assert signed_in.organization_id == invited.organization.id
    assert (refused.outcome, refused.actor_type) == ("denied", "anonymous")


def test_form_writes_are_recorded_with_the_invitation_as_actor(visitor, db, invited):
    response = visitor.post(
        "/form/start", data={"csrf_token": csrf_of(visitor)}, follow_redirects=False
    )

    assert response.status_code == 303
    [event] = _events(db, action="form.start")
    assert event.actor_type == "invitation"
    assert str(event.invitation_id) == invited.invitation["id"]
    assert event.organization_id == invited.organization.id
    assert event.outcome == "success"


# --- Reading the trail -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["consultant", "partner"])
def test_only_admins_read_the_trail(client, make_key, role):
    response = client.get("/v1/audit", headers=bearer(make_key(role)))

    assert response.status_code == 403


def test_the_trail_filters_and_pages_newest_first(client, db, make_key, make_organization):
    admin = make_key("admin")
    consultant = make_key("consultant")
    for n in range(3):
        client.post(
            "/v1/organizations", json={**ORGANIZATION, "name": f"H{n}"}, headers=bearer(consultant)
        )
    client.post("/v1/organizations", json=ORGANIZATION, headers=bearer(make_key("partner")))
    consultant_id = str(_key_id(db, consultant))

    def page(**params: Any) -> dict[str, Any]:
        response = client.get("/v1/audit", params=params, headers=bearer(admin))
        assert response.status_code == 200, response.text
        return response.json()

    mine = page(actor_key_id=consultant_id, action="organization.create")
    first = page(actor_key_id=consultant_id, action="organization.create", limit=2)
    rest = page(
        actor_key_id=consultant_id, action="organization.create", before_id=first["next_before_id"]
    )
    denied = page(outcome="denied", action="organization.create")
    later = page(since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())
    one_org = page(organization_id=mine["items"][0]["organization_id"])

    assert mine["total"] == 3
    ids = [e["id"] for e in mine["items"]]
    assert ids == sorted(ids, reverse=True)
    assert [e["id"] for e in first["items"] + rest["items"]] == ids
    assert denied["total"] == 1
    assert denied["items"][0]["status_code"] == 403
    assert later["total"] == 0
    assert {e["organization_id"] for e in one_org["items"]} == {mine["items"][0]["organization_id"]}


def test_an_unknown_filter_is_422(client, admin_headers):
    response = client.get("/v1/audit", params={"actor": "x"}, headers=admin_headers)

    assert response.status_code == 422


def test_a_replayed_retry_is_not_recorded_as_a_second_write(client, db, admin_headers):
    headers = {**admin_headers, "Idempotency-Key": "once"}

    first = client.post("/v1/organizations", json=ORGANIZATION, headers=headers)
    again = client.post("/v1/organizations", json=ORGANIZATION, headers=headers)

    assert again.headers["Idempotent-Replayed"] == "true"
    [event] = _events(db, action="organization.create")
    assert event.object_id == first.json()["id"]


def test_a_write_whose_commit_fails_answers_500_and_is_recorded_as_failed(
    client, db, admin_headers, monkeypatch
):
    from app.http import unit_of_work

    real_record = unit_of_work._record
    calls = []

    def failing_once(session, scope, response):
        calls.append(response.status)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        real_record(session, scope, response)

    monkeypatch.setattr(unit_of_work, "_record", failing_once)
    name = f"Lost Hospital {uuid.uuid4()}"

    response = client.post(
        "/v1/organizations", json={**ORGANIZATION, "name": name}, headers=admin_headers
    )

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    [event] = _events(db, action="organization.create")
    assert (event.outcome, event.status_code) == ("failed", 500)
    listed = client.get("/v1/organizations", params={"limit": 200}, headers=admin_headers)
    assert name not in {o["name"] for o in listed.json()["items"]}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("action", "\x00"),
        ("action", "assessment.create\x00"),
        ("action", "assessment create; drop"),
        ("before_id", "99999999999999999999999"),
        ("before_id", str(2**63)),
        ("before_id", "0"),
        ("limit", "501"),
        ("offset", "1000000001"),
        ("since", "0.5"),
        ("actor_key_id", "not-a-key"),
    ],
)
def test_an_out_of_range_or_malformed_filter_is_a_422_naming_it(client, admin_headers, name, value):
    response = client.get("/v1/audit", params={name: value}, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert name in response.text


def test_the_largest_event_id_is_a_valid_cursor(client, admin_headers):
    response = client.get("/v1/audit", params={"before_id": str(2**63 - 1)}, headers=admin_headers)
    assert response.status_code == 200, response.text


def test_a_failing_statement_is_logged_without_its_bound_parameters(
    client, db, admin_headers, monkeypatch, caplog
):
    from sqlalchemy import text

    from app.http import unit_of_work

    real_record = unit_of_work._record
    secret = f"Our crisis plan lives in Dana's inbox {uuid.uuid4()}"
    calls = []

    def failing_statement(session, scope, response):
        calls.append(response.status)
        if len(calls) == 1:
            session.execute(
                text("INSERT INTO no_such_table (note) VALUES (:note)"), {"note": secret}
            )
        real_record(session, scope, response)

    monkeypatch.setattr(unit_of_work, "_record", failing_statement)

    with caplog.at_level("ERROR"):
        response = client.post(
            "/v1/organizations", json={**ORGANIZATION, "name": secret}, headers=admin_headers
        )

    assert response.status_code == 500
    logged = "\n".join(
        record.getMessage() + "\n" + logging.Formatter().formatException(record.exc_info)
        for record in caplog.records
        if record.exc_info
    )
    assert "no_such_table" in logged  # the failure itself is logged...
    assert "parameters hidden" in logged
    assert "crisis plan" not in logged  # ...but not what the user typed
