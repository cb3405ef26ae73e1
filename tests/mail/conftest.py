"""Fixtures of the e-mail tests: an SMTP server, settings that point at it, a world to invite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.auth.service import Principal
from app.config import Settings
from app.db import make_engine, session_factory, transaction
from app.invitations.service import create_invitation
from app.mail import service as mail
from app.mail.models import EmailMessage
from app.migrate import upgrade
from app.organizations.models import Organization
from app.questionnaire.registry import publish
from tests.mail.smtp_server import Recorder, smtp_server
from tests.support.questionnaires import loaded_questionnaires

SENDER = "assessments@center.example.org"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def smtp_port(recorder: Recorder) -> Iterator[int]:
    with smtp_server(recorder) as port:
        yield port


def mail_settings(tmp_path: Path, port: int, **overrides: object) -> Settings:
    """Settings that send through the test server on ``port`` (plain SMTP, no login)."""
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
        "run_report_jobs": False,
        "secret_key": "test-secret-key-for-mail",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_from": SENDER,
        "smtp_timeout_seconds": 5,
        "email_retry_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, smtp_port: int) -> Settings:
    return mail_settings(tmp_path, smtp_port)


@dataclass
class World:
    """A migrated database with one organization, and a way to queue invitation e-mails."""

    factory: sessionmaker[Session]
    settings: Settings
    organization_id: object
    registry: object

    def queue(
        self, to: str = "staff@lakeside.example.org", *, invited_by: str | None = "Dana Reyes"
    ) -> tuple[EmailMessage, str]:
        """A new invitation and its e-mail, committed; the message and the link."""
        with transaction(self.factory) as session:
            organization = session.get_one(Organization, self.organization_id)
            issued = create_invitation(
                session,
                self.registry,  # type: ignore[arg-type]
                Principal.system(),
                organization,
                key=self.settings.signing_key(),
            )
            link = f"https://assess.example.org/i/{issued.token}"
            message = mail.queue_invitation_email(
                session, self.settings, issued.invitation, link, to, invited_by=invited_by
            )
            session.expunge(message)
        return message, link

    def message(self, message_id: object) -> EmailMessage:
        with transaction(self.factory) as session:
            found = session.get_one(EmailMessage, message_id)
            session.expunge(found)
            return found


@pytest.fixture
def world(fresh_database_url: str, settings: Settings) -> Iterator[World]:
    engine = make_engine(fresh_database_url, pool_size=5, max_overflow=5)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        registry = publish(session, loaded_questionnaires())
        organization = Organization(
            name="Lakeside <Community> & Hospital",
            type="community_hospital",
            licensed_beds=60,
            state="MN",
        )
        session.add(organization)
        session.flush()
        organization_id = organization.id
    yield World(factory, settings, organization_id, registry)
    engine.dispose()
