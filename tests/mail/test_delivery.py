"""Delivering invitation e-mails through a real SMTP server: once, retried, or failed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.db import transaction, utcnow
from app.invitations.models import Invitation
from app.jobs.runner import LocalRunner
from app.mail import service as mail
from app.mail.models import EmailMessage, EmailStatus
from app.mail.sealing import SealBroken, seal, unseal
from app.mail.sender import MailSender
from app.mail.smtp import Uncertain, send_smtp
from tests.mail.conftest import SENDER, mail_settings


def test_the_message_carries_the_link_in_both_parts_and_nothing_else_secret(world, recorder):
    queued, link = world.queue()

    delivery = mail.deliver(world.factory, world.settings, queued.id)

    assert delivery.outcome is mail.Outcome.SENT
    [received] = recorder.received
    assert received.sender == SENDER
    assert received.recipients == ["staff@lakeside.example.org"]
    headers = received.message
    assert headers["From"] == SENDER
    assert headers["To"] == "staff@lakeside.example.org"
    assert headers["Message-ID"] == queued.message_id
    assert "Lakeside <Community> & Hospital" in headers["Subject"]
    text, html = received.part("plain"), received.part("html")
    token = link.rsplit("/", 1)[1]
    for body in (text, html):
        assert link in body
        assert body.count(token) == (1 if body is text else 2)  # the href and the copyable text
        assert "Dana Reyes" in body
        assert "test-secret-key" not in body
        assert "score" not in body.lower()
    assert "Lakeside <Community> & Hospital" in text
    assert "Lakeside &lt;Community&gt; &amp; Hospital" in html  # autoescaped
    assert "<Community>" not in html
    assert f'<a href="{link}">' in html
    stored = world.message(queued.id)
    assert stored.status == EmailStatus.SENT
    assert stored.attempts == 1
    assert stored.sent_at is not None
    assert stored.sealed_link is None  # wiped once sent
    assert stored.last_error is None


def test_the_link_is_stored_only_sealed_with_a_key_of_its_own(world):
    queued, link = world.queue()

    assert queued.sealed_link is not None
    assert link not in queued.sealed_link
    assert link.rsplit("/", 1)[1] not in queued.sealed_link
    assert unseal(world.settings.signing_key(), queued.sealed_link) == link
    with pytest.raises(SealBroken):
        unseal(b"another secret key", queued.sealed_link)
    with pytest.raises(SealBroken):
        unseal(world.settings.signing_key(), seal(b"another secret key", link))


def test_without_an_inviter_the_message_says_you_are_invited(world, recorder):
    queued, _link = world.queue(invited_by=None)

    mail.deliver(world.factory, world.settings, queued.id)

    assert recorder.received[0].part("plain").count("You are invited") == 1


def test_a_server_that_refuses_the_first_attempts_gets_the_message_once(world, recorder):
    recorder.refuse_data = 2
    queued, _link = world.queue()
    waits: list[int] = []

    def backoff(attempt: int) -> float:
        waits.append(attempt)
        return 0

    outcomes = [
        mail.deliver(world.factory, world.settings, queued.id, backoff=backoff).outcome
        for _ in range(4)
    ]

    assert outcomes == [
        mail.Outcome.RETRY,
        mail.Outcome.RETRY,
        mail.Outcome.SENT,
        mail.Outcome.NOT_CLAIMED,
    ]
    assert waits == [1, 2]
    assert len(recorder.received) == 1
    assert recorder.data_commands == 3
    stored = world.message(queued.id)
    assert (stored.status, stored.attempts, stored.last_error) == (EmailStatus.SENT, 3, None)


def test_a_retry_waits_for_its_backoff(world, recorder):
    recorder.refuse_data = 1
    queued, _link = world.queue()

    first = mail.deliver(world.factory, world.settings, queued.id, backoff=lambda _a: 3600)
    again = mail.deliver(world.factory, world.settings, queued.id)

    assert first.outcome is mail.Outcome.RETRY
    assert first.retry_at is not None
    assert first.retry_at > utcnow() + timedelta(minutes=59)
    assert again.outcome is mail.Outcome.NOT_CLAIMED
    stored = world.message(queued.id)
    assert stored.status == EmailStatus.QUEUED
    assert stored.last_error is not None
    assert "451" in stored.last_error


def test_the_default_backoff_doubles_from_the_setting(tmp_path):
    backoff = mail.exponential_backoff(mail_settings(tmp_path, 25, email_retry_seconds=30))

    assert [backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30) == 6 * 3600


def test_attempts_exhausted_fail_the_message_and_wipe_the_link(tmp_path, world, recorder):
    recorder.refuse_data = 100
    world.settings = mail_settings(tmp_path, world.settings.smtp_port, email_max_attempts=3)
    queued, _link = world.queue()

    outcomes = [mail.deliver(world.factory, world.settings, queued.id).outcome for _ in range(4)]

    assert outcomes == [
        mail.Outcome.RETRY,
        mail.Outcome.RETRY,
        mail.Outcome.FAILED,
        mail.Outcome.NOT_CLAIMED,
    ]
    assert recorder.received == []
    stored = world.message(queued.id)
    assert stored.status == EmailStatus.FAILED
    assert stored.attempts == 3
    assert stored.sealed_link is None
    assert stored.last_error is not None
    assert stored.last_error.startswith("gave up after 3 attempts")
    assert "451" in stored.last_error


def test_a_permanent_refusal_fails_at_once(world, recorder):
    recorder.refuse_rcpt = "550 5.1.1 No such user here"
    queued, _link = world.queue()

    delivery = mail.deliver(world.factory, world.settings, queued.id)

    assert delivery.outcome is mail.Outcome.FAILED
    stored = world.message(queued.id)
    assert (stored.status, stored.attempts) == (EmailStatus.FAILED, 1)
    assert "550" in (stored.last_error or "")
    assert stored.sealed_link is None


def test_no_server_listening_is_retried(tmp_path, world, recorder):
    world.settings = mail_settings(tmp_path, 9)  # discard: nothing listens on 127.0.0.1:9
    queued, _link = world.queue()

    delivery = mail.deliver(world.factory, world.settings, queued.id)

    assert delivery.outcome is mail.Outcome.RETRY
    assert "could not connect" in (world.message(queued.id).last_error or "")


def test_starttls_is_required_when_the_settings_say_so(tmp_path, world, recorder):
    world.settings = mail_settings(tmp_path, world.settings.smtp_port, smtp_security="starttls")
    queued, _link = world.queue()

    delivery = mail.deliver(world.factory, world.settings, queued.id)

    assert delivery.outcome is mail.Outcome.RETRY
    assert recorder.received == []  # never sent in the clear
    assert "STARTTLS" in (world.message(queued.id).last_error or "")


def test_an_uncertain_handover_is_failed_and_never_sent_again(world, recorder):
    queued, _link = world.queue()
    calls = []

    def breaks_during_data(*args: object) -> None:
        calls.append(args)
        raise Uncertain("delivery uncertain: the connection failed while sending")

    first = mail.deliver(world.factory, world.settings, queued.id, transport=breaks_during_data)
    again = mail.deliver(world.factory, world.settings, queued.id)

    assert (first.outcome, again.outcome) == (mail.Outcome.FAILED, mail.Outcome.NOT_CLAIMED)
    assert len(calls) == 1
    assert recorder.received == []
    assert (world.message(queued.id).last_error or "").startswith("delivery uncertain")


def test_a_row_left_sending_by_a_dead_process_is_failed_not_resent(world, recorder):
    queued, _link = world.queue()
    with transaction(world.factory) as session:
        assert mail.claim(session, queued.id)  # the process that claimed it then died
        session.execute(
            update(EmailMessage)
            .where(EmailMessage.id == queued.id)
            .values(claimed_at=utcnow() - timedelta(hours=1))
        )

    sender = MailSender(world.factory, world.settings)
    assert sender.fail_stuck() == 1
    assert sender.deliver_due() is False

    stored = world.message(queued.id)
    assert stored.status == EmailStatus.FAILED
    assert stored.last_error == mail.UNCERTAIN_AFTER_CRASH
    assert stored.sealed_link is None
    assert recorder.received == []


def test_a_row_being_sent_now_is_not_taken_for_a_dead_one(world):
    queued, _link = world.queue()
    with transaction(world.factory) as session:
        assert mail.claim(session, queued.id)

    assert MailSender(world.factory, world.settings).fail_stuck() == 0
    assert world.message(queued.id).status == EmailStatus.SENDING


def test_a_revoked_invitation_is_not_sent(world, recorder):
    queued, _link = world.queue()
    with transaction(world.factory) as session:
        session.execute(
            update(Invitation)
            .where(Invitation.id == queued.invitation_id)
            .values(revoked_at=utcnow())
        )

    delivery = mail.deliver(world.factory, world.settings, queued.id)

    assert delivery.outcome is mail.Outcome.FAILED
    assert recorder.received == []
    assert "revoked" in (world.message(queued.id).last_error or "")


def test_two_senders_racing_for_one_message_send_it_once(world, recorder):
    queued, _link = world.queue()
    start = threading.Barrier(2)
    outcomes: list[mail.Outcome] = []

    def slow_smtp(*args):  # hold the claim a while, as a slow server would
        time.sleep(0.2)
        send_smtp(*args)

    def race() -> None:
        start.wait()
        delivery = mail.deliver(world.factory, world.settings, queued.id, transport=slow_smtp)
        outcomes.append(delivery.outcome)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == sorted([mail.Outcome.SENT, mail.Outcome.NOT_CLAIMED])
    assert len(recorder.received) == 1


def test_two_running_senders_deliver_every_message_exactly_once(world, recorder):
    recorder.refuse_data = 2  # two retries along the way
    queued = [world.queue(to=f"staff{n}@lakeside.example.org")[0] for n in range(6)]
    senders = [MailSender(world.factory, world.settings, poll_seconds=0.02) for _ in range(2)]
    for sender in senders:
        sender.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(recorder.received) < len(queued):
            time.sleep(0.02)
        time.sleep(0.1)  # a duplicate, if there were one, would arrive now
    finally:
        for sender in senders:
            sender.stop()

    recipients = sorted(r.recipients[0] for r in recorder.received)
    assert recipients == sorted(m.to_address for m in queued)
    assert all(world.message(m.id).status == EmailStatus.SENT for m in queued)


def test_the_embedded_runner_sends_queued_email(world, recorder):
    queued, link = world.queue()
    runner = LocalRunner(world.factory, world.registry, world.settings, poll_seconds=0.05)
    assert runner.mail is not None
    runner.mail.poll_seconds = 0.02
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not recorder.received:
            time.sleep(0.02)
    finally:
        runner.stop()

    assert link in recorder.received[0].part("plain")
    assert world.message(queued.id).status == EmailStatus.SENT


def test_the_embedded_runner_has_no_mail_thread_without_smtp(tmp_path, world):
    settings = mail_settings(tmp_path, 25, smtp_host=None, smtp_from=None)

    assert LocalRunner(world.factory, world.registry, settings).mail is None
