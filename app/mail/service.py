"""Queueing invitation e-mails and delivering them at most once, retried with back-off.

Delivery rules (every sender follows them, through ``deliver``):

- A sender claims a message atomically (``queued`` and due → ``sending``, one conditional
  UPDATE) and commits the claim before it contacts the SMTP server, so two senders never
  send the same row.
- ``sent`` is committed right after the SMTP server accepted the message. The sealed link
  is wiped then, and whenever a message is finally failed.
- A refusal that may pass (no connection, 4xx) queues it again after an exponential
  back-off, until ``SMM_EMAIL_MAX_ATTEMPTS``; a 5xx refusal fails it at once.
- A message the server may have taken (the connection broke during DATA), or a row left
  in ``sending`` by a process that died, is failed with "delivery uncertain" and never
  sent again: a missing e-mail can be asked for again, a duplicate cannot be taken back.

The functions that take a session flush, never commit; ``deliver`` owns its own
transactions (it runs in a sender, not in a request).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import transaction, utcnow
from app.errors import InvalidRequest
from app.invitations.models import Invitation
from app.mail.compose import InvitationLetter, compose_invitation
from app.mail.models import EmailKind, EmailMessage, EmailStatus
from app.mail.sealing import SealBroken, seal, unseal
from app.mail.smtp import DeliveryError, Refused, Transport, Uncertain, send_smtp
from app.organizations.models import Organization

log = logging.getLogger("smm.mail")

# Waits between attempts: attempt number (1, 2, ...) -> seconds.
Backoff = Callable[[int], float]

UNCERTAIN_AFTER_CRASH = (
    "delivery uncertain: the sender stopped while handing the message to the SMTP server; "
    "not sent again so that it is never sent twice"
)


class MailNotConfigured(InvalidRequest):
    """E-mail was asked for, but no SMTP server is configured."""

    def __init__(self) -> None:
        detail = (
            "This service cannot send e-mail: no SMTP server is configured (SMM_SMTP_HOST). "
            "Leave out `email` and send the link yourself."
        )
        super().__init__(detail, errors=[{"field": "email", "message": f"email: {detail}"}])


def require_mail(settings: Settings) -> None:
    """Raise MailNotConfigured (422 naming ``email``) when no SMTP server is configured."""
    if not settings.sends_email:
        raise MailNotConfigured()


def exponential_backoff(settings: Settings) -> Backoff:
    """``SMM_EMAIL_RETRY_SECONDS`` doubled after each attempt, at most six hours."""
    base = settings.email_retry_seconds
    return lambda attempt: float(min(base * 2 ** max(attempt - 1, 0), 6 * 3600))


def queue_invitation_email(
    session: Session,
    settings: Settings,
    invitation: Invitation,
    link: str,
    to_address: str,
    *,
    invited_by: str | None,
) -> EmailMessage:
    """Queue the invitation's link for ``to_address``, in the caller's transaction (flushed).

    The caller found ``invitation`` within its scope and validated ``to_address`` (one
    plain address, ``app.addresses.email_address``). Raises MailNotConfigured without an
    SMTP server. Putting it on a worker queue is the caller's (``app.jobs.queue``).
    """
    require_mail(settings)
    message_uuid = uuid.uuid4()
    domain = (settings.smtp_from or "").rpartition("@")[2] or "smm-assess.invalid"
    now = utcnow()
    message = EmailMessage(
        id=message_uuid,
        organization_id=invitation.organization_id,
        invitation_id=invitation.id,
        to_address=to_address,
        kind=EmailKind.INVITATION.value,
        status=EmailStatus.QUEUED.value,
        attempts=0,
        invited_by=" ".join(invited_by.split())[:200] if invited_by else None,
        sealed_link=seal(settings.signing_key(), link),
        message_id=f"<{message_uuid.hex}@{domain}>",
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    session.flush()
    return message


def messages_for(session: Session, organization_id: uuid.UUID) -> list[EmailMessage]:
    """The organization's e-mails, newest first (the caller checked the organization's scope)."""
    return list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.organization_id == organization_id)
            .order_by(EmailMessage.created_at.desc(), EmailMessage.id)
        )
    )


def messages_of_invitation(session: Session, invitation_id: uuid.UUID) -> list[EmailMessage]:
    """The e-mails of one invitation, oldest first (the caller checked its scope)."""
    return list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.invitation_id == invitation_id)
            .order_by(EmailMessage.created_at, EmailMessage.id)
        )
    )


def claim(session: Session, message_id: uuid.UUID, *, now: datetime | None = None) -> bool:
    """Mark a queued, due message ``sending`` for this sender; False if anyone else has it."""
    now = now or utcnow()
    claimed = session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.id == message_id,
            EmailMessage.status == EmailStatus.QUEUED.value,
            EmailMessage.next_attempt_at <= now,
        )
        .values(
            status=EmailStatus.SENDING.value,
            attempts=EmailMessage.attempts + 1,
            claimed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def due(session: Session, *, now: datetime | None = None, limit: int = 50) -> list[uuid.UUID]:
    """Queued messages whose (next) attempt is due, oldest first."""
    return list(
        session.scalars(
            select(EmailMessage.id)
            .where(
                EmailMessage.status == EmailStatus.QUEUED.value,
                EmailMessage.next_attempt_at <= (now or utcnow()),
            )
            .order_by(EmailMessage.next_attempt_at, EmailMessage.id)
            .limit(limit)
        )
    )


def stuck_cutoff(settings: Settings) -> datetime:
    """A message claimed before this has outlived any SMTP conversation still going."""
    return utcnow() - timedelta(seconds=settings.smtp_timeout_seconds * 10 + 60)


def fail_stuck(session: Session, claimed_before: datetime) -> int:
    """Fail messages left ``sending`` by a sender that died: "delivery uncertain", not resent."""
    failed = session.execute(
        update(EmailMessage)
        .where(
            EmailMessage.status == EmailStatus.SENDING.value,
            or_(EmailMessage.claimed_at.is_(None), EmailMessage.claimed_at < claimed_before),
        )
        .values(status=EmailStatus.FAILED.value, last_error=UNCERTAIN_AFTER_CRASH, sealed_link=None)
        .execution_options(synchronize_session=False)
    )
    return int(failed.rowcount)  # type: ignore[attr-defined]


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # queued again for a later attempt
    FAILED = "failed"
    NOT_CLAIMED = "not_claimed"  # another sender has it, or it is not due or not queued


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one call to ``deliver`` went; ``retry_at`` when it was queued again."""

    outcome: Outcome
    retry_at: datetime | None = None


def deliver(
    factory: sessionmaker[Session],
    settings: Settings,
    message_id: uuid.UUID,
    *,
    transport: Transport = send_smtp,
    backoff: Backoff | None = None,
) -> Delivery:
    """Claim, send and record one message (never raises for a failed delivery).

    Three transactions: the claim (committed before the SMTP server is contacted), then the
    outcome. If recording ``sent`` fails, the row stays ``sending`` and is later failed as
    uncertain by ``fail_stuck``, never sent again.
    """
    backoff = backoff or exponential_backoff(settings)
    with transaction(factory) as session:
        if not claim(session, message_id):
            return Delivery(Outcome.NOT_CLAIMED)
        message = session.get_one(EmailMessage, message_id, populate_existing=True)
        try:
            prepared = _prepare(session, settings, message)
        except Exception:  # a template or data bug: fail this one, keep the sender going
            log.exception("e-mail %s could not be composed", message_id)
            prepared = "the message could not be composed (the service log says why)"
        attempt, to, sender = message.attempts, message.to_address, settings.smtp_from or ""
        if isinstance(prepared, str):
            _finish(message, error=prepared)
            log.warning("e-mail %s not sent: %s", message_id, prepared)
            return Delivery(Outcome.FAILED)
    try:
        transport(settings, prepared, sender, to)
    except DeliveryError as exc:
        return _record_failure(factory, settings, message_id, attempt, exc, backoff)
    except Exception as exc:  # a bug or an unexpected library error: do not guess
        log.exception("e-mail %s: unexpected error while sending", message_id)
        return _record_failure(
            factory,
            settings,
            message_id,
            attempt,
            Uncertain(f"delivery uncertain: unexpected {type(exc).__name__}; not sent again"),
            backoff,
        )
    with transaction(factory) as session:
        message = session.get_one(EmailMessage, message_id, populate_existing=True)
        message.status = EmailStatus.SENT.value
        message.sent_at = utcnow()
        message.last_error = None
        message.sealed_link = None
    log.info("e-mail %s sent (attempt %d)", message_id, attempt)
    return Delivery(Outcome.SENT)


def _prepare(session: Session, settings: Settings, message: EmailMessage) -> MimeMessage | str:
    """The MIME message to send, or why there is nothing to send (a sentence)."""
    invitation = session.get(Invitation, message.invitation_id) if message.invitation_id else None
    if invitation is None:
        return "the invitation no longer exists"
    if invitation.revoked_at is not None:
        return "the invitation was revoked before the e-mail could be sent"
    if invitation.expires_at <= utcnow():
        return "the invitation expired before the e-mail could be sent"
    if message.sealed_link is None:
        return "the link is no longer kept"
    try:
        link = unseal(settings.signing_key(), message.sealed_link)
    except SealBroken:
        return "the link cannot be unsealed: the secret key changed since it was queued"
    organization = session.get_one(Organization, message.organization_id)
    letter = InvitationLetter(
        sender=settings.smtp_from or "",
        to=message.to_address,
        message_id=message.message_id,
        organization=organization.name,
        invited_by=message.invited_by,
        link=link,
        expires_at=invitation.expires_at,
    )
    return compose_invitation(letter, date=utcnow())


def _finish(message: EmailMessage, *, error: str) -> None:
    message.status = EmailStatus.FAILED.value
    message.last_error = error[:300]
    message.sealed_link = None


def _record_failure(
    factory: sessionmaker[Session],
    settings: Settings,
    message_id: uuid.UUID,
    attempt: int,
    error: DeliveryError,
    backoff: Backoff,
) -> Delivery:
    with transaction(factory) as session:
        message = session.get_one(EmailMessage, message_id, populate_existing=True)
        retryable = isinstance(error, Refused) and not error.permanent
        if retryable and attempt < settings.email_max_attempts:
            retry_at = utcnow() + timedelta(seconds=backoff(attempt))
            message.status = EmailStatus.QUEUED.value
            message.last_error = error.reason[:300]
            message.next_attempt_at = retry_at
            log.info("e-mail %s attempt %d failed, retried later: %s", message_id, attempt, error)
            return Delivery(Outcome.RETRY, retry_at)
        reason = error.reason
        if retryable:
            reason = f"gave up after {attempt} attempts: {reason}"
        _finish(message, error=reason)
    log.warning("e-mail %s failed: %s", message_id, reason)
    return Delivery(Outcome.FAILED)
