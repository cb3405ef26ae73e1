"""Links the service hands out, built the same way by every door that hands them out."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.invitations.models import Invitation
from app.jobs import queue
from app.mail import service as mail
from app.mail.models import EmailMessage


def invitation_link(request: Request, settings: Settings, token: str) -> str:
    """The link for a token: SMM_PUBLIC_URL, or the URL this request came in on."""
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/i/{token}"


def email_invitation(
    request: Request,
    session: Session,
    settings: Settings,
    invitation: Invitation,
    link: str,
    to_address: str,
    *,
    invited_by: str | None,
) -> EmailMessage:
    """Queue the link's email in the request's transaction, and hand it to `smm worker`
    when the workers send (else the embedded runner's sender picks it up)."""
    message = mail.queue_invitation_email(
        session, settings, invitation, link, to_address, invited_by=invited_by
    )
    report_queue = getattr(request.app.state, "report_queue", None)
    if report_queue is not None:
        queue.dispatch_email(report_queue, session, message.id)
    return message
