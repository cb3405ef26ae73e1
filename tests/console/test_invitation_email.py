"""Inviting by email from the console: the same queue and sender as the REST door, the
delivery status on the organization page, and no email field where no SMTP is set up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiKey, Role
from app.auth.service import Principal
from app.config import Settings
from app.mail.models import EmailMessage
from app.mail.sender import MailSender
from app.organizations.models import Organization
from tests.conftest import bound_session
from tests.console.conftest import Person, csrf_of
from tests.mail.conftest import mail_settings, recorder, smtp_port

__all__ = ["recorder", "smtp_port"]  # fixtures, shared with the mail tests
from tests.mail.smtp_server import Recorder


@pytest.fixture
def app_settings(tmp_path: Path, smtp_port: int) -> Settings:
    return mail_settings(
        tmp_path, smtp_port, sign_in_rate_limit=100_000, sign_in_rate_burst=100_000
    )


def _own_organization(db: Session, person: Person) -> Organization:
    key = db.get_one(ApiKey, person.user.principal_id)
    organization = Organization(
        name="Lakeside Community Hospital",
        type="community_hospital",
        licensed_beds=60,
        state="MN",
        created_by_key_id=Principal(key.id, Role(key.role)).key_id,
    )
    db.add(organization)
    db.commit()
    return organization


def test_a_consultant_emails_a_link_and_sees_it_delivered(
    make_user: Callable[..., Person],
    signed_in_as: Callable[[Person], TestClient],
    db: Session,
    connection: object,
    app_settings: Settings,
    recorder: Recorder,
) -> None:
    person = make_user()
    organization = _own_organization(db, person)
    browser = signed_in_as(person)
    path = f"/console/organizations/{organization.id}"
    token = csrf_of(browser, path)
    created = browser.post(
        f"{path}/invitations", data={"csrf_token": token, "email": "staff@lakeside.example.org"}
    )
    assert created.status_code == 201
    assert "It is also being emailed to" in created.text
    assert "Queued for staff@lakeside.example.org" in created.text
    link = re.search(r'id="created-link-url" type="text" readonly value="([^"]+)"', created.text)
    assert link

    sender = MailSender(lambda: bound_session(connection), app_settings)  # type: ignore[arg-type]
    assert sender.deliver_due() is True
    [received] = recorder.received
    assert received.recipients == ["staff@lakeside.example.org"]
    assert link.group(1) in received.part("plain")
    assert "Dana Whitfield" in received.part("plain")  # who invites: the consultant

    page = browser.get(path)
    assert "Sent to staff@lakeside.example.org" in page.text
    assert link.group(1) not in page.text  # the link itself is not shown again


def test_a_bad_address_is_named_and_nothing_is_made(
    make_user: Callable[..., Person], signed_in_as: Callable[[Person], TestClient], db: Session
) -> None:
    person = make_user()
    organization = _own_organization(db, person)
    browser = signed_in_as(person)
    path = f"/console/organizations/{organization.id}"
    answer = browser.post(
        f"{path}/invitations",
        data={"csrf_token": csrf_of(browser, path), "email": "not an address"},
    )
    assert answer.status_code == 422
    assert "Email the link to" in answer.text
    assert db.scalars(select(EmailMessage)).all() == []
