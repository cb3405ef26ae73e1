"""CLI writes are recorded with actor `cli`; the rules that name actions and addresses."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import action_name, client_ip, is_download, outcome_of
from app.db import make_engine, session_factory, transaction
from app.organizations.models import Organization
from tests.support.cli import run_smm


def test_key_and_invitation_writes_from_the_cli_are_recorded_with_actor_cli(env, tmp_path):
    env["SMM_SECRET_KEY_FILE"] = str(tmp_path / "secret")
    created = run_smm("keys", "create", "--role", "consultant", env=env).stdout
    token = created.strip().splitlines()[-1]
    engine = make_engine(env["SMM_DATABASE_URL"])
    with transaction(session_factory(engine)) as session:
        organization = Organization(
            name="Lakeside", type="community_hospital", licensed_beds=120, state="MN"
        )
        session.add(organization)
        session.flush()
        organization_id = organization.id
    run_smm("keys", "grant", token, "--org", str(organization_id), env=env)
    run_smm("keys", "revoke", token, env=env)
    run_smm("invite", str(organization_id), env=env)

    with transaction(session_factory(engine)) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    engine.dispose()
    assert [e.action for e in events] == [
        "api_key.create",
        "api_key.grant",
        "api_key.revoke",
        "invitation.create",
    ]
    assert {e.actor_type for e in events} == {"cli"}
    assert {e.outcome for e in events} == {"success"}
    assert events[0].object_type == "api_key"
    assert events[0].object_id == events[2].object_id
    assert events[1].organization_id == events[3].organization_id == organization_id
    assert token.split("_", 2)[2] not in str([e.detail for e in events])


@pytest.mark.parametrize(
    ("name", "path", "download", "action"),
    [
        ("create_assessment", "/v1/assessments", False, "assessment.create"),
        ("create_assessment_batch", "/v1/assessments/batch", False, "assessment_batch.create"),
        (
            "update_organization",
            "/v1/organizations/{organization_id}",
            False,
            "organization.update",
        ),
        (
            "get_report_pdf",
            "/v1/assessments/{assessment_id}/report.pdf",
            True,
            "report_pdf.download",
        ),
        ("submit", "/form/submit", False, "form.submit"),
        ("save_section", "/form/section/{dimension_id}", False, "section.save"),
    ],
)
def test_actions_are_named_from_the_route(name, path, download, action):
    assert action_name(name, path, download=download) == action


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", "6.6.6.6", [], "203.0.113.9"),
        ("10.0.0.2", "198.51.100.7", ["10.0.0.2"], "198.51.100.7"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.3", ["10.0.0.2", "10.0.0.3"], "198.51.100.7"),
        ("203.0.113.9", "6.6.6.6", ["10.0.0.2"], "203.0.113.9"),
        ("10.0.0.2", None, ["10.0.0.2"], "10.0.0.2"),
    ],
)
def test_forwarded_addresses_count_only_behind_trusted_proxies(peer, forwarded, trusted, expected):
    assert client_ip(peer, forwarded, trusted) == expected


@pytest.mark.parametrize(
    ("media_type", "disposition", "expected"),
    [
        ("application/pdf", None, True),
        ("text/csv; charset=utf-8", None, True),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", None, True),
        ("application/json", 'attachment; filename="a.json"', True),
        ("application/json", None, False),
        ("text/html; charset=utf-8", None, False),
    ],
)
def test_downloads_are_recognised_by_media_type_or_attachment(media_type, disposition, expected):
    assert is_download(media_type, disposition) is expected


def test_outcomes():
    assert outcome_of(201).value == "success"
    assert outcome_of(401).value == outcome_of(403).value == "denied"
    assert outcome_of(404).value == "failed"
    assert outcome_of(404, out_of_scope=True).value == "denied"
    assert outcome_of(422).value == outcome_of(500).value == "failed"
