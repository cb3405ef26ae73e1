"""The REST door: POST .../invitations with `email`, and the delivery shown on the invitation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.invitations.models import Invitation
from app.mail import service as mail
from app.mail.models import EmailMessage
from app.mail.sender import MailSender
from tests.conftest import bound_session
from tests.mail.conftest import mail_settings


@pytest.fixture
def app_settings(tmp_path, smtp_port):
    return mail_settings(tmp_path, smtp_port)


@pytest.fixture
def sender(connection, app_settings):
    """The mail sender, its sessions joined to the test's transaction (run it by hand)."""
    return MailSender(lambda: bound_session(connection), app_settings)


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_an_invitation_with_an_email_is_sent_and_shows_its_delivery(
    client, admin_headers, make_organization, sender, recorder
):
    organization = make_organization()

    created = client.post(
        f"/v1/organizations/{organization.id}/invitations",
        json={"email": " staff@lakeside.example.org "},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["emails"] == [
        {
            "to": "staff@lakeside.example.org",
            "status": "queued",
            "attempts": 0,
            "sent_at": None,
            "error": None,
        }
    ]

    assert sender.deliver_due() is True

    [received] = recorder.received
    assert received.recipients == ["staff@lakeside.example.org"]
    assert body["url"] in received.part("plain")
    assert body["url"] in received.part("html")
    assert admin_headers["Authorization"].split()[1] not in received.message.as_string()
    shown = client.get(f"/v1/invitations/{body['id']}", headers=admin_headers).json()
    [delivery] = shown["emails"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 1)
    assert delivery["sent_at"] is not None


def test_an_invitation_without_an_email_sends_nothing(
    client, admin_headers, make_organization, sender, recorder
):
    organization = make_organization()

    created = client.post(
        f"/v1/organizations/{organization.id}/invitations", json={}, headers=admin_headers
    )

    assert created.status_code == 201
    assert created.json()["emails"] == []
    assert sender.deliver_due() is False
    assert recorder.received == []


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "a@b",
        "one@example.org, two@example.org",
        "staff@lakeside.example.org\r\nBcc: everyone@example.org",
        "Dana <dana@example.org>",
        "",
    ],
)
def test_a_bad_address_is_refused_naming_email_and_nothing_is_stored(
    client, admin_headers, make_organization, db, address
):
    organization = make_organization()
    before = _count(db, Invitation), _count(db, EmailMessage)

    response = client.post(
        f"/v1/organizations/{organization.id}/invitations",
        json={"email": address},
        headers=admin_headers,
    )

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    assert (_count(db, Invitation), _count(db, EmailMessage)) == before


def test_without_smtp_an_email_is_refused_saying_why_and_the_link_still_works(
    app, client, admin_headers, make_organization, db, tmp_path
):
    app.state.settings = mail_settings(tmp_path, 25, smtp_host=None, smtp_from=None)
    organization = make_organization()
    before = _count(db, Invitation), _count(db, EmailMessage)

    refused = client.post(
        f"/v1/organizations/{organization.id}/invitations",
        json={"email": "staff@lakeside.example.org"},
        headers=admin_headers,
    )
    plain = client.post(
        f"/v1/organizations/{organization.id}/invitations", json={}, headers=admin_headers
    )

    assert refused.status_code == 422
    [problem] = refused.json()["errors"]
    assert problem["field"] == "email"
    assert "SMTP" in problem["message"]
    assert "SMM_SMTP_HOST" in refused.json()["detail"]
    assert plain.status_code == 201
    assert "/i/" in plain.json()["url"]
    assert (_count(db, Invitation), _count(db, EmailMessage)) == (before[0] + 1, before[1])


def test_messages_for_lists_an_organizations_emails(client, admin_headers, make_organization, db):
    lakeside, other = make_organization(), make_organization("Other")
    for organization in (lakeside, lakeside, other):
        client.post(
            f"/v1/organizations/{organization.id}/invitations",
            json={"email": "staff@example.org"},
            headers=admin_headers,
        )

    assert len(mail.messages_for(db, lakeside.id)) == 2
    assert len(mail.messages_for(db, other.id)) == 1


def test_a_consultant_without_the_organization_cannot_email_its_staff(
    client, make_key, make_organization, db
):
    organization, theirs = make_organization(), make_organization("Theirs")
    key = make_key("consultant", [theirs.id])

    response = client.post(
        f"/v1/organizations/{organization.id}/invitations",
        json={"email": "staff@example.org"},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 404
    assert _count(db, EmailMessage) == 0


@pytest.mark.postgres
def test_on_postgresql_the_email_goes_on_the_worker_queue_with_the_invitation(
    app, client, admin_headers, make_organization, db
):
    from sqlalchemy import text

    from app.jobs import queue

    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the job queue is PostgreSQL's")
    url = db.get_bind().engine.url.render_as_string(hide_password=False)
    app.state.report_queue = queue.client_app(url)
    organization = make_organization()

    created = client.post(
        f"/v1/organizations/{organization.id}/invitations",
        json={"email": "staff@example.org"},
        headers=admin_headers,
    )

    assert created.status_code == 201
    [message] = mail.messages_for(db, organization.id)
    tasks = db.scalars(
        text("SELECT task_name FROM procrastinate.procrastinate_jobs WHERE queueing_lock = :lock"),
        {"lock": f"email:{message.id}"},
    ).all()
    assert tasks == [queue.EMAIL_TASK]
