"""`smm invite --email`: queued for the sender, refused when it cannot be sent."""

from __future__ import annotations

from app.db import make_engine, session_factory
from app.mail.sender import MailSender
from tests.mail.conftest import SENDER, mail_settings
from tests.support.cli import run_smm


def _organization(env) -> str:
    created = run_smm(
        "org", "create", "Lakeside", "--type", "clinic", "--beds", "20", "--state", "MN", env=env
    )
    return created.stdout.strip().splitlines()[-1]


def test_invite_with_email_queues_the_link_the_sender_then_delivers(
    env, tmp_path, smtp_port, recorder
):
    env = {
        **env,
        "SMM_SECRET_KEY": "test-secret-key-for-mail",
        "SMM_SMTP_HOST": "127.0.0.1",
        "SMM_SMTP_PORT": str(smtp_port),
        "SMM_SMTP_SECURITY": "none",
        "SMM_SMTP_FROM": SENDER,
    }
    organization = _organization(env)

    invited = run_smm("invite", organization, "--email", "staff@lakeside.example.org", env=env)
    bad = run_smm("invite", organization, "--email", "staff at lakeside", env=env, check=False)

    lines = invited.stdout.strip().splitlines()
    assert "queued for e-mail to staff@lakeside.example.org" in invited.stdout
    link = lines[-1]
    assert bad.returncode == 2
    assert "--email" in bad.stderr
    engine = make_engine(env["SMM_DATABASE_URL"])
    try:
        settings = mail_settings(tmp_path, smtp_port, database_url=env["SMM_DATABASE_URL"])
        assert MailSender(session_factory(engine), settings).deliver_due() is True
    finally:
        engine.dispose()
    [received] = recorder.received
    assert link in received.part("plain")


def test_invite_with_email_but_no_smtp_server_says_why_and_makes_no_link(env):
    organization = _organization(env)

    result = run_smm("invite", organization, "--email", "staff@example.org", env=env, check=False)

    assert result.returncode == 1
    assert "--email" in result.stderr
    assert "SMM_SMTP_HOST" in result.stderr
    assert "/i/" not in result.stdout
